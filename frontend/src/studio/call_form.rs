//! The playground's call form as data: which call, on which descriptor, with which
//! arguments, as the reader typed them; and the engine's `Call` it makes, or why it cannot.

use sockscope_engine::scenario::{Call, ChildSpec, How, IoctlRequest, Linger, OptName, OptValue, SockType};
use sockscope_engine::{Ipv4, SockAddr};

/// The calls the form offers, in the order of its menu.
pub const CALLS: [&str; 13] = [
    "socket",
    "bind",
    "listen",
    "connect",
    "accept",
    "send",
    "recv",
    "shutdown",
    "close",
    "setsockopt",
    "fcntl",
    "ioctl",
    "fork",
];

/// The socket options the form offers, with what their value means.
pub const OPTIONS: [(&str, &str); 10] = [
    ("SO_REUSEADDR", "1 or 0"),
    ("SO_KEEPALIVE", "1 or 0"),
    ("TCP_NODELAY", "1 or 0"),
    ("TCP_CORK", "1 or 0"),
    ("TCP_INQ", "1 or 0"),
    ("SO_LINGER", "seconds (l_onoff 1)"),
    ("SO_RCVBUF", "bytes"),
    ("SO_SNDBUF", "bytes"),
    ("TCP_MAXSEG", "bytes, 88 to 32767"),
    ("TCP_USER_TIMEOUT", "ms, 0 for none"),
];

/// What the form holds. Every field is text as typed; `call()` reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallForm {
    pub call: String,
    pub fd: String,
    pub host: String,
    pub port: String,
    pub backlog: String,
    pub bytes: String,
    pub how: String,
    pub opt: String,
    pub value: String,
    pub nonblock: String,
    pub request: String,
}

impl Default for CallForm {
    fn default() -> Self {
        CallForm {
            call: "socket".to_string(),
            fd: String::new(),
            host: "server".to_string(),
            port: "5000".to_string(),
            backlog: "5".to_string(),
            bytes: "100".to_string(),
            how: "SHUT_WR".to_string(),
            opt: "SO_REUSEADDR".to_string(),
            value: "1".to_string(),
            nonblock: "on".to_string(),
            request: "SIOCINQ".to_string(),
        }
    }
}

/// The arguments a call's form shows, besides the descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Host,
    Port,
    Backlog,
    Bytes,
    How,
    Opt,
    Value,
    Nonblock,
    Request,
}

/// What a call works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Works {
    /// A descriptor the process holds.
    OnDescriptor,
    /// Nothing the process holds (socket(), fork()).
    Alone,
}

/// What `call` works on, and its other fields.
pub fn fields(call: &str) -> (Works, &'static [Field]) {
    use Works::{Alone, OnDescriptor};
    match call {
        "socket" | "fork" => (Alone, &[]),
        "bind" => (OnDescriptor, &[Field::Port]),
        "listen" => (OnDescriptor, &[Field::Backlog]),
        "connect" => (OnDescriptor, &[Field::Host, Field::Port]),
        "send" | "recv" => (OnDescriptor, &[Field::Bytes]),
        "shutdown" => (OnDescriptor, &[Field::How]),
        "setsockopt" => (OnDescriptor, &[Field::Opt, Field::Value]),
        "fcntl" => (OnDescriptor, &[Field::Nonblock]),
        "ioctl" => (OnDescriptor, &[Field::Request]),
        _ => (OnDescriptor, &[]),
    }
}

impl CallForm {
    /// The call, with `new_name` naming a descriptor it creates, and `addr_of` giving a host's
    /// address; or a sentence saying what to fix.
    pub fn call(
        &self,
        new_name: impl Fn(&str) -> String,
        addr_of: impl Fn(&str) -> Option<Ipv4>,
    ) -> Result<Call, String> {
        let (works, _) = fields(&self.call);
        if works == Works::OnDescriptor && self.fd.is_empty() {
            return Err(format!("{}() needs a descriptor: make one with socket() first.", self.call));
        }
        let fd = self.fd.clone();
        let number = |text: &str, what: &str, max: u32| -> Result<u32, String> {
            text.trim()
                .parse::<u32>()
                .ok()
                .filter(|value| *value <= max)
                .ok_or_else(|| format!("The {what} must be a whole number from 0 to {max}."))
        };
        let port = || number(&self.port, "port", 65535).map(|port| port as u16);
        Ok(match self.call.as_str() {
            "socket" => Call::Socket { name: new_name("s"), sock_type: SockType::Stream },
            "bind" => Call::Bind { fd, addr: SockAddr::new(Ipv4([0, 0, 0, 0]), port()?) },
            "listen" => Call::Listen { fd, backlog: number(&self.backlog, "backlog", 4096)? },
            "connect" => {
                let ip = addr_of(&self.host).ok_or_else(|| format!("There is no host called “{}”.", self.host))?;
                Call::Connect { fd, addr: SockAddr::new(ip, port()?) }
            }
            "accept" => Call::Accept { fd, name: new_name("c") },
            "send" => Call::Send {
                fd,
                data: None,
                len: Some(number(&self.bytes, "number of bytes", 1 << 20)?),
                more: false,
                eor: false,
            },
            "recv" => Call::Recv { fd, len: number(&self.bytes, "number of bytes", 1 << 20)? },
            "shutdown" => Call::Shutdown {
                fd,
                how: match self.how.as_str() {
                    "SHUT_RD" => How::Read,
                    "SHUT_RDWR" => How::Both,
                    _ => How::Write,
                },
            },
            "close" => Call::Close { fd },
            "setsockopt" => {
                let value = number(&self.value, "value", 1 << 24)?;
                let (opt, value) = match self.opt.as_str() {
                    "SO_KEEPALIVE" => (OptName::KeepAlive, OptValue::Flag(value != 0)),
                    "TCP_NODELAY" => (OptName::NoDelay, OptValue::Flag(value != 0)),
                    "TCP_CORK" => (OptName::Cork, OptValue::Flag(value != 0)),
                    "TCP_INQ" => (OptName::Inq, OptValue::Flag(value != 0)),
                    "SO_LINGER" => (OptName::Linger, OptValue::Linger(Linger { onoff: true, linger: value })),
                    "SO_RCVBUF" => (OptName::RcvBuf, OptValue::Number(value)),
                    "SO_SNDBUF" => (OptName::SndBuf, OptValue::Number(value)),
                    "TCP_MAXSEG" => (OptName::MaxSeg, OptValue::Number(value)),
                    "TCP_USER_TIMEOUT" => (OptName::UserTimeout, OptValue::Number(value)),
                    _ => (OptName::ReuseAddr, OptValue::Flag(value != 0)),
                };
                Call::Setsockopt { fd, opt, value }
            }
            "fcntl" => Call::Fcntl { fd, nonblock: Some(self.nonblock != "off") },
            "ioctl" => Call::Ioctl {
                fd,
                request: if self.request == "SIOCOUTQ" { IoctlRequest::OutQ } else { IoctlRequest::InQ },
            },
            "fork" => Call::Fork { child: Box::new(ChildSpec { name: String::new(), steps: Vec::new() }) },
            other => return Err(format!("The playground does not offer {other}().")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(form: &CallForm) -> Result<Call, String> {
        form.call(|prefix| format!("{prefix}9"), |host| (host == "server").then_some(Ipv4([10, 0, 0, 2])))
    }

    #[test]
    fn every_offered_call_is_made_from_the_defaults() {
        for name in CALLS {
            let form = CallForm { call: name.to_string(), fd: "s1".to_string(), ..CallForm::default() };
            let made = call(&form).unwrap_or_else(|why| panic!("{name}: {why}"));
            assert_eq!(made.name(), name, "{made:?}");
        }
    }

    #[test]
    fn what_cannot_be_called_says_what_to_fix() {
        let form = CallForm { call: "listen".to_string(), ..CallForm::default() };
        assert_eq!(call(&form), Err("listen() needs a descriptor: make one with socket() first.".to_string()));
        let bad_port = CallForm { call: "bind".into(), fd: "s1".into(), port: "70000".into(), ..CallForm::default() };
        assert_eq!(call(&bad_port), Err("The port must be a whole number from 0 to 65535.".to_string()));
        let nowhere = CallForm { call: "connect".into(), fd: "s1".into(), host: "mars".into(), ..CallForm::default() };
        assert_eq!(call(&nowhere), Err("There is no host called “mars”.".to_string()));
        let made = call(&CallForm { call: "connect".into(), fd: "s1".into(), ..CallForm::default() });
        assert_eq!(made, Ok(Call::Connect { fd: "s1".into(), addr: "10.0.0.2:5000".parse().expect("addr") }));
    }
}
