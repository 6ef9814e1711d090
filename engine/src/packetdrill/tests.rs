//! The reader against scripts written for these tests (none is taken from packetdrill's
//! suite), and against broken ones, which must give located errors.

use super::*;

/// A server's handshake, a write, the peer's FIN and our close: every kind of line.
const SERVER: &str = r#"// A listener takes one connection, writes, and closes after the peer's FIN.
--tolerance_usecs=10000
--mss=1000
`../common/defaults.sh`

    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
   +0...0.150 accept(3, ..., ...) = 4

 +.05 < S 0:0(0) win 29200 <mss 1000,sackOK,TS val 10 ecr 0,nop,wscale 6>
   +0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 10,nop,wscale 7>
 +.1 < . 1:1(0) ack 1 win 457 <nop,nop,TS val 20 ecr 100>

   +0 write(4, ..., 1000) = 1000
   +0 > P. 1:1001(1000) ack 1 <...>
 0.3 < . 1:1(0) ack 1001 win 457 <nop,nop,sack 1:1001>
    * > .  1001:1001(0) ack 1
   +0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
   +0 connect(4, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = -1 EISCONN (Transport endpoint is already connected)
   +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 100}], msg_flags=0}, 0) = -1 EAGAIN (Resource temporarily unavailable)
   +0 %{ assert tcpi_snd_cwnd == 10 }%
+.1~+.2 > F. 1001:1001(0) ack 1
`/tmp/restore.sh`
"#;

#[test]
fn a_script_with_every_kind_of_line_is_read() {
    let script = read(SERVER).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(script.options.len(), 2);
    assert_eq!((script.options[0].name.as_str(), script.options[0].value.as_str()), ("tolerance_usecs", "10000"));
    let events = &script.events;
    assert_eq!(events[0], Event { line: 4, time: None, action: Action::Shell("../common/defaults.sh".into()) });
    assert_eq!(events[1].line, 6);
    assert_eq!(events[1].time, Some(EventTime::Absolute(0)));
    let Action::Syscall(socket) = &events[1].action else { panic!("a call") };
    assert_eq!(socket.name, "socket");
    assert_eq!(socket.args, [Expr::Ellipsis, Expr::Word("SOCK_STREAM".into()), Expr::Word("IPPROTO_TCP".into())]);
    assert_eq!(socket.result, Expr::Integer(3));
    let Action::Syscall(accept) = &events[5].action else { panic!("accept") };
    assert_eq!(accept.end, Some(150_000), "blocks until 0.150");
    let Action::Packet(syn) = &events[6].action else { panic!("a SYN") };
    assert_eq!(events[6].time, Some(EventTime::Relative(50_000)));
    assert_eq!(
        (syn.direction, syn.flags.as_str(), syn.ack_flag, syn.start, syn.end, syn.len),
        (Direction::Inbound, "S", false, 0, 0, 0)
    );
    assert_eq!(syn.win, Some(29200));
    assert_eq!(
        syn.options,
        PacketOptions::List(vec![
            TcpOption::Mss(1000),
            TcpOption::SackPermitted,
            TcpOption::Timestamp { value: 10, echo: 0 },
            TcpOption::Nop,
            TcpOption::WindowScale(6),
        ])
    );
    let Action::Packet(syn_ack) = &events[7].action else { panic!("a SYN+ACK") };
    assert_eq!(
        (syn_ack.direction, syn_ack.flags.as_str(), syn_ack.ack_flag, syn_ack.ack),
        (Direction::Outbound, "S", true, Some(1))
    );
    let Action::Packet(data) = &events[10].action else { panic!("data") };
    assert_eq!((data.flags.as_str(), data.start, data.end, data.len), ("P", 1, 1001, 1000));
    assert_eq!(data.options, PacketOptions::Any);
    assert_eq!(events[11].time, Some(EventTime::Absolute(300_000)));
    let Action::Packet(sacked) = &events[11].action else { panic!("an ACK with SACK") };
    assert_eq!(
        sacked.options,
        PacketOptions::List(vec![TcpOption::Nop, TcpOption::Nop, TcpOption::Sack(vec![(1, 1001)])])
    );
    assert_eq!(events[12].time, Some(EventTime::Any));
    let Action::Packet(bare) = &events[12].action else { panic!("a bare ACK") };
    assert_eq!((bare.flags.as_str(), bare.ack_flag, bare.options.clone()), ("", true, PacketOptions::Unwritten));
    let Action::Syscall(linger) = &events[13].action else { panic!("SO_LINGER") };
    assert_eq!(
        linger.args[3],
        Expr::Struct(vec![
            Expr::Assign(Box::new(Expr::Word("onoff".into())), Box::new(Expr::Integer(1))),
            Expr::Assign(Box::new(Expr::Word("linger".into())), Box::new(Expr::Integer(0))),
        ])
    );
    let Action::Syscall(connect) = &events[14].action else { panic!("connect") };
    assert_eq!((connect.result.clone(), connect.errno.as_deref()), (Expr::Integer(-1), Some("EISCONN")));
    assert_eq!(connect.note.as_deref(), Some("Transport endpoint is already connected"));
    let Expr::Struct(fields) = &connect.args[1] else { panic!("a sockaddr") };
    assert_eq!(
        fields[1],
        Expr::Assign(
            Box::new(Expr::Word("sin_port".into())),
            Box::new(Expr::Call("htons".into(), vec![Expr::Integer(8080)]))
        )
    );
    let Action::Syscall(fcntl) = &events[15].action else { panic!("fcntl") };
    assert_eq!(fcntl.args[2], Expr::Or(vec![Expr::Word("O_RDWR".into()), Expr::Word("O_NONBLOCK".into())]));
    let Action::Syscall(recvmsg) = &events[16].action else { panic!("recvmsg") };
    assert_eq!(recvmsg.errno.as_deref(), Some("EAGAIN"));
    assert!(matches!(&events[17].action, Action::Python(code) if code.contains("tcpi_snd_cwnd")));
    assert_eq!(events[18].time, Some(EventTime::RelativeRange(100_000, 200_000)));
    assert!(matches!(&events[18].action, Action::Packet(fin) if fin.flags == "F"));
    assert_eq!(events[19], Event { line: 26, time: None, action: Action::Shell("/tmp/restore.sh".into()) });
    assert_eq!(events.len(), 20);
}

#[test]
fn what_is_not_read_is_named_at_its_line() {
    let script = read("0 < [ect0] S 0:0(0) win 100\n+0 < udp (100)\n+0 > icmp unreachable\n+0 close(3) = 0\n")
        .unwrap_or_else(|err| panic!("{err}"));
    let names: Vec<String> = script
        .events
        .iter()
        .map(|event| match &event.action {
            Action::Unsupported(what) => what.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert!(names[0].contains("IP header"), "{names:?}");
    assert!(names[1].contains("UDP") && names[2].contains("ICMP"), "{names:?}");
    assert!(names[3].contains("close"), "{names:?}");
}

#[test]
fn times_are_exact_microseconds() {
    for (time, micros) in [
        ("0", 0),
        ("1", 1_000_000),
        (".1", 100_000),
        ("0.000001", 1),
        ("2.5", 2_500_000),
        ("0.0000004", 0),
        ("0.0000006", 1),
    ] {
        let script = read(&format!("{time} close(3) = 0")).unwrap_or_else(|err| panic!("{time}: {err}"));
        assert_eq!(script.events[0].time, Some(EventTime::Absolute(micros)), "{time}");
    }
}

#[test]
fn broken_scripts_get_located_errors() {
    let cases = [
        ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) 3", 1, 41, "expected `=`"),
        ("0 > S 0:0 win 1", 1, 11, "expected `(`"),
        ("0 > S 0:10(5)", 1, 7, "spans 10 bytes"),
        ("0 > X 0:0(0)", 1, 5, "TCP flags"),
        ("0 > S 0:0(0) <mss 70000>", 1, 19, "at most 65535"),
        ("0 > S 0:0(0) <fancy 1>", 1, 15, "a TCP option"),
        ("0 > S 0:0(0) <mss 1000", 1, 19, "expected `>`"),
        ("0 > S 99999999999:0(0)", 1, 7, "between 0 and 4294967295"),
        ("\n\n  +x close(3) = 0", 3, 4, "a time in seconds"),
        ("0 close(3 = 0", 1, 13, "expected `)`"),
        ("0 write(3, [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]) = 1", 1, 29, "nest deeper"),
        ("--mss=", 1, 6, "an option's value"),
        ("~1 close(3) = 0", 1, 1, "a time in seconds"),
        ("+1~2 close(3) = 0", 1, 4, "expected `+`"),
        ("* close(3) = 0", 1, 1, "only for a segment the socket must send"),
        ("1~2 < S 0:0(0)", 1, 1, "a time range is only"),
        ("2~1 > S 0:0(0)", 1, 1, "runs backwards"),
        ("\n  +0~+1 write(3, ..., 1) = 1", 2, 3, "a time range is only"),
        ("0 what", 1, 3, "a packet (`<` or `>`), a system call"),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(text, line, column, reason)| match read(text) {
            Ok(_) => Some(format!("{text}: read")),
            Err(err) if (err.line, err.column) != (*line, *column) || !err.reason.contains(reason) => {
                Some(format!("{text}: {err}"))
            }
            Err(_) => None,
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    let huge = "x".repeat(MAX_SCRIPT_BYTES + 1);
    assert!(read(&huge).expect_err("too long").reason.contains("bytes"));
}

/// A line at any time (`*`) that the engine never meets fails, at the run's time limit,
/// instead of waiting for ever; keepalive's two-hour timer is past that limit.
#[test]
fn a_segment_that_never_comes_fails_at_the_time_limit() {
    let text = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
                +0 setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0\n\
                +0 bind(3, ..., ...) = 0\n\
                +0 listen(3, 1) = 0\n\
                +.1 < S 0:0(0) win 65535 <mss 1460>\n\
                +0 > S. 0:0(0) ack 1 <mss 1460>\n\
                +.1 < . 1:1(0) ack 1 win 65535\n\
                * > F. 1:1(0) ack 1\n";
    let script = read(text).unwrap_or_else(|err| panic!("{err}"));
    let outcome = run(&script);
    match outcome.verdict {
        Verdict::Fail { line, actual, .. } => {
            assert_eq!(line, 8);
            assert!(actual.contains("sent nothing"), "{actual}");
        }
        other => panic!("{other:?}"),
    }
}
