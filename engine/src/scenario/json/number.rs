//! JSON numbers, read as serde_json 1.x reads them (without `float_roundtrip` or
//! `arbitrary_precision`): an integer is a `u64` or an `i64` when it fits, anything else the
//! same `f64` bit for bit, computed from the digits and serde_json's table of powers of ten.

use super::parser::Parser;
use super::syntax::Syntax;

/// A JSON number as serde_json holds it: an integer without fraction or exponent is a `u64`
/// if it fits, a negative one an `i64` if it fits; anything else is a float.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Number {
    U64(u64),
    I64(i64),
    /// The value and the number as written, which is how an error message shows it (serde
    /// printed the shortest text that reads back as the value; the two agree for numbers
    /// written plainly, such as `1.5` or `2.0`, see `scenario/read/mod.rs`).
    F64(f64, Box<str>),
}

impl Number {
    /// A float whose text `Parser::number` fills in once the whole number has been read.
    fn float(value: f64) -> Number {
        Number::F64(value, Box::default())
    }

    /// serde_json's `Number::as_u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Number::U64(value) => Some(value),
            _ => None,
        }
    }

    /// serde_json's `Number::as_i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Number::U64(value) => i64::try_from(value).ok(),
            Number::I64(value) => Some(value),
            Number::F64(..) => None,
        }
    }

    /// serde_json's `Number::as_f64` (always a value for a number read from JSON text).
    pub fn as_f64(&self) -> f64 {
        match *self {
            Number::U64(value) => value as f64,
            Number::I64(value) => value as f64,
            Number::F64(value, _) => value,
        }
    }
}

/// Whether `value * 10 + digit` overflows `max` (serde_json's `overflow!`).
fn overflows<T>(value: T, digit: T, max: T) -> bool
where
    T: Copy + PartialOrd + std::ops::Div<Output = T> + std::ops::Rem<Output = T> + From<u8>,
{
    let ten = T::from(10);
    value >= max / ten && (value > max / ten || digit > max % ten)
}

impl Parser<'_> {
    /// A number, read as serde_json's `parse_integer` and the functions it calls read one.
    pub(super) fn number(&mut self) -> Option<Number> {
        let from = self.pos;
        let positive = self.peek() != Some(b'-');
        if !positive {
            self.pos += 1;
        }
        let mut number = self.integer(positive)?;
        if let Number::F64(_, text) = &mut number {
            *text = self.text[from..self.pos].into();
        }
        Some(number)
    }

    fn integer(&mut self, positive: bool) -> Option<Number> {
        let float = Number::float;
        match self.next() {
            None => self.fail_here(Syntax::EofWhileParsingValue),
            Some(b'0') => {
                // Only one leading zero.
                if self.peek_digit().is_some() {
                    return self.fail_ahead(Syntax::InvalidNumber);
                }
                self.after_integer(positive, 0)
            }
            Some(first @ b'1'..=b'9') => {
                let mut significand = u64::from(first - b'0');
                while let Some(digit) = self.peek_digit() {
                    let digit = u64::from(digit);
                    // Past u64, the digits only count towards the float's exponent.
                    if overflows(significand, digit, u64::MAX) {
                        return self.long_integer(positive, significand).map(float);
                    }
                    self.pos += 1;
                    significand = significand * 10 + digit;
                }
                self.after_integer(positive, significand)
            }
            Some(_) => self.fail_here(Syntax::InvalidNumber),
        }
    }

    /// serde_json's `parse_number`: a fraction or exponent makes a float; otherwise a positive
    /// integer is a `u64`, and a negative one an `i64` unless it is `-0` or below `i64::MIN`.
    fn after_integer(&mut self, positive: bool, significand: u64) -> Option<Number> {
        let float = Number::float;
        match self.peek() {
            Some(b'.') => self.decimal(positive, significand, 0).map(float),
            Some(b'e' | b'E') => self.exponent(positive, significand, 0).map(float),
            _ if positive => Some(Number::U64(significand)),
            _ => {
                let negative = (significand as i64).wrapping_neg();
                if negative >= 0 {
                    Some(float(-(significand as f64)))
                } else {
                    Some(Number::I64(negative))
                }
            }
        }
    }

    /// serde_json's `parse_decimal`, at the decimal point.
    fn decimal(&mut self, positive: bool, mut significand: u64, exponent_before_point: i32) -> Option<f64> {
        self.pos += 1;
        let mut exponent_after_point = 0;
        while let Some(digit) = self.peek_digit() {
            let digit = u64::from(digit);
            if overflows(significand, digit, u64::MAX) {
                return self.decimal_overflow(positive, significand, exponent_before_point + exponent_after_point);
            }
            self.pos += 1;
            significand = significand * 10 + digit;
            exponent_after_point -= 1;
        }
        // At least one digit must follow the point.
        if exponent_after_point == 0 {
            return match self.peek() {
                Some(_) => self.fail_ahead(Syntax::InvalidNumber),
                None => self.fail_ahead(Syntax::EofWhileParsingValue),
            };
        }
        let exponent = exponent_before_point + exponent_after_point;
        match self.peek() {
            Some(b'e' | b'E') => self.exponent(positive, significand, exponent),
            _ => self.float_of_parts(positive, significand, exponent),
        }
    }

    /// serde_json's `parse_exponent`, at the `e`.
    fn exponent(&mut self, positive: bool, significand: u64, starting_exponent: i32) -> Option<f64> {
        self.pos += 1;
        let positive_exponent = match self.peek() {
            Some(b'+') => {
                self.pos += 1;
                true
            }
            Some(b'-') => {
                self.pos += 1;
                false
            }
            _ => true,
        };
        let mut exponent = match self.next() {
            None => return self.fail_here(Syntax::EofWhileParsingValue),
            Some(digit @ b'0'..=b'9') => i32::from(digit - b'0'),
            Some(_) => return self.fail_here(Syntax::InvalidNumber),
        };
        while let Some(digit) = self.peek_digit() {
            self.pos += 1;
            let digit = i32::from(digit);
            if overflows(exponent, digit, i32::MAX) {
                return self.exponent_overflow(positive, significand == 0, positive_exponent);
            }
            exponent = exponent * 10 + digit;
        }
        let exponent = if positive_exponent {
            starting_exponent.saturating_add(exponent)
        } else {
            starting_exponent.saturating_sub(exponent)
        };
        self.float_of_parts(positive, significand, exponent)
    }

    /// serde_json's `parse_exponent_overflow`: an exponent past `i32::MAX` is out of range,
    /// unless the number is zero or the exponent negative, which make zero.
    fn exponent_overflow(&mut self, positive: bool, zero_significand: bool, positive_exponent: bool) -> Option<f64> {
        if !zero_significand && positive_exponent {
            return self.fail_here(Syntax::NumberOutOfRange);
        }
        while self.peek_digit().is_some() {
            self.pos += 1;
        }
        Some(if positive { 0.0 } else { -0.0 })
    }

    /// serde_json's `parse_long_integer` (without `float_roundtrip`): digits past what a u64
    /// holds are dropped and counted in the exponent.
    fn long_integer(&mut self, positive: bool, significand: u64) -> Option<f64> {
        let mut exponent: i32 = 0;
        loop {
            match self.peek() {
                Some(b'0'..=b'9') => {
                    self.pos += 1;
                    exponent = exponent.saturating_add(1);
                }
                Some(b'.') => return self.decimal(positive, significand, exponent),
                Some(b'e' | b'E') => return self.exponent(positive, significand, exponent),
                _ => return self.float_of_parts(positive, significand, exponent),
            }
        }
    }

    /// serde_json's `parse_decimal_overflow` (without `float_roundtrip`): fraction digits past
    /// what a u64 holds are dropped.
    fn decimal_overflow(&mut self, positive: bool, significand: u64, exponent: i32) -> Option<f64> {
        while self.peek_digit().is_some() {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'e' | b'E') => self.exponent(positive, significand, exponent),
            _ => self.float_of_parts(positive, significand, exponent),
        }
    }

    /// serde_json's `f64_from_parts` (without `float_roundtrip`): the significand as a float,
    /// multiplied or divided by a power of ten from [`POW10`]; a result too large for an f64 is
    /// an error rather than infinity.
    fn float_of_parts(&mut self, positive: bool, significand: u64, mut exponent: i32) -> Option<f64> {
        let mut value = significand as f64;
        loop {
            match POW10.get(exponent.unsigned_abs() as usize) {
                Some(&power) => {
                    if exponent >= 0 {
                        value *= power;
                        if value.is_infinite() {
                            return self.fail_here(Syntax::NumberOutOfRange);
                        }
                    } else {
                        value /= power;
                    }
                    break;
                }
                None => {
                    if value == 0.0 {
                        break;
                    }
                    if exponent >= 0 {
                        return self.fail_here(Syntax::NumberOutOfRange);
                    }
                    value /= 1e308;
                    exponent += 308;
                }
            }
        }
        Some(if positive { value } else { -value })
    }
}

/// Powers of ten exactly as serde_json's table writes them (each the f64 nearest 10^n).
static POW10: [f64; 309] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39,
    1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48, 1e49, 1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58,
    1e59, 1e60, 1e61, 1e62, 1e63, 1e64, 1e65, 1e66, 1e67, 1e68, 1e69, 1e70, 1e71, 1e72, 1e73, 1e74, 1e75, 1e76, 1e77,
    1e78, 1e79, 1e80, 1e81, 1e82, 1e83, 1e84, 1e85, 1e86, 1e87, 1e88, 1e89, 1e90, 1e91, 1e92, 1e93, 1e94, 1e95, 1e96,
    1e97, 1e98, 1e99, 1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109, 1e110, 1e111, 1e112, 1e113,
    1e114, 1e115, 1e116, 1e117, 1e118, 1e119, 1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139, 1e140, 1e141, 1e142, 1e143, 1e144, 1e145,
    1e146, 1e147, 1e148, 1e149, 1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159, 1e160, 1e161,
    1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169, 1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177,
    1e178, 1e179, 1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189, 1e190, 1e191, 1e192, 1e193,
    1e194, 1e195, 1e196, 1e197, 1e198, 1e199, 1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209,
    1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219, 1e220, 1e221, 1e222, 1e223, 1e224, 1e225,
    1e226, 1e227, 1e228, 1e229, 1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239, 1e240, 1e241,
    1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249, 1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257,
    1e258, 1e259, 1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269, 1e270, 1e271, 1e272, 1e273,
    1e274, 1e275, 1e276, 1e277, 1e278, 1e279, 1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289,
    1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299, 1e300, 1e301, 1e302, 1e303, 1e304, 1e305,
    1e306, 1e307, 1e308,
];
