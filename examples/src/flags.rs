//! The examples' command lines: each example declares the flags it accepts; anything else is
//! refused with the usage.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// One flag an example accepts: a switch (`--smoke`) or a flag with a value (`--tcp ADDR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    name: &'static str,
    /// What the value is, as the usage shows it (`ADDR`); `None` for a switch.
    value: Option<&'static str>,
    default: Option<&'static str>,
    /// The only values accepted, when the flag has a fixed set.
    choices: Option<&'static [&'static str]>,
    help: &'static str,
}

impl Flag {
    /// A switch: `name` alone.
    pub const fn switch(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            value: None,
            default: None,
            choices: None,
            help,
        }
    }

    /// A flag followed by a value, which the usage calls `value` (`ADDR`, `SECONDS`).
    pub const fn value(name: &'static str, value: &'static str, help: &'static str) -> Self {
        Self {
            name,
            value: Some(value),
            default: None,
            choices: None,
            help,
        }
    }

    /// The value used when the flag is not given.
    pub const fn default_value(self, default: &'static str) -> Self {
        Self {
            default: Some(default),
            ..self
        }
    }

    /// Accepts only these values; the usage shows them as the value (`gate|room`).
    pub const fn one_of(self, choices: &'static [&'static str]) -> Self {
        Self {
            choices: Some(choices),
            ..self
        }
    }

    /// The value after this flag in `args`: present, not another flag, one of the choices.
    fn take_value(
        &self,
        args: &mut std::iter::Peekable<impl Iterator<Item = String>>,
    ) -> Result<String, FlagError> {
        let value = args
            .next_if(|next| !next.starts_with("--"))
            .ok_or(FlagError::MissingValue(self.name))?;
        match self.choices {
            Some(choices) if !choices.contains(&value.as_str()) => Err(FlagError::BadValue {
                flag: self.name,
                value,
            }),
            _ => Ok(value),
        }
    }

    /// The flag as the usage shows it: `--tcp ADDR`.
    fn synopsis(&self) -> String {
        match (self.choices, self.value) {
            (Some(choices), _) => format!("{} {}", self.name, choices.join("|")),
            (None, Some(value)) => format!("{} {value}", self.name),
            (None, None) => self.name.to_owned(),
        }
    }
}

/// Why a command line was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagError {
    /// `--help` or `-h`: not a mistake, the usage was asked for.
    Help,
    /// An argument that is not one of the declared flags.
    Unknown(String),
    /// A flag that takes a value came last, or right before another flag.
    MissingValue(&'static str),
    /// A flag given twice.
    Repeated(&'static str),
    /// A value that does not parse as what its flag needs, or is not one of its choices.
    BadValue {
        /// The flag.
        flag: &'static str,
        /// Its value.
        value: String,
    },
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagError::Help => write!(f, "help requested"),
            FlagError::Unknown(arg) => write!(f, "unknown argument `{arg}`"),
            FlagError::MissingValue(flag) => write!(f, "`{flag}` needs a value"),
            FlagError::Repeated(flag) => write!(f, "`{flag}` is given twice"),
            FlagError::BadValue { flag, value } => write!(f, "`{value}` is not valid for `{flag}`"),
        }
    }
}

impl std::error::Error for FlagError {}

/// An example's parsed command line: `--name value` pairs and bare `--switches`, each one of
/// the declared [`Flag`]s.
#[derive(Debug, Clone)]
pub struct Args {
    program: &'static str,
    flags: Vec<Flag>,
    given: Vec<(&'static str, Option<String>)>,
}

impl Args {
    /// The process's arguments, checked against `flags`. `--help` prints the usage and exits
    /// with status 0; a mistake prints it with the mistake and exits with status 2.
    pub fn from_env(program: &'static str, flags: &[Flag]) -> Self {
        Self::parse(program, flags, std::env::args().skip(1))
            .unwrap_or_else(|error| exit_with(program, flags, &error))
    }

    /// `args` (without the program's name), checked against `flags`.
    ///
    /// # Errors
    ///
    /// An undeclared argument, a missing value, a repeated flag, or `--help`.
    pub fn parse(
        program: &'static str,
        flags: &[Flag],
        args: impl IntoIterator<Item = String>,
    ) -> Result<Self, FlagError> {
        let mut given: Vec<(&'static str, Option<String>)> = Vec::new();
        let mut args = args.into_iter().peekable();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                return Err(FlagError::Help);
            }
            let flag = flags
                .iter()
                .find(|flag| flag.name == arg)
                .ok_or(FlagError::Unknown(arg))?;
            if given.iter().any(|(name, _)| *name == flag.name) {
                return Err(FlagError::Repeated(flag.name));
            }
            let value = match flag.value {
                None => None,
                Some(_) => Some(flag.take_value(&mut args)?),
            };
            given.push((flag.name, value));
        }
        Ok(Self {
            program,
            flags: flags.to_vec(),
            given,
        })
    }

    /// Whether `name` is given (a switch, or a flag with its value).
    pub fn flag(&self, name: &str) -> bool {
        self.given.iter().any(|(given, _)| *given == name)
    }

    /// The value of `name`: as given, else its declared default (`None` without either).
    pub fn get(&self, name: &str) -> Option<&str> {
        let given = self.given.iter().find(|(given, _)| *given == name);
        match given {
            Some((_, value)) => value.as_deref(),
            None => self.declared(name).and_then(|flag| flag.default),
        }
    }

    /// The value of `name` (as given, else its default) as a `T`; a value that does not parse
    /// prints the usage and exits with status 2.
    ///
    /// # Panics
    ///
    /// When `name` is not declared, or has no value and no default: a mistake in the
    /// example, not in its command line.
    pub fn value<T: FromStr>(&self, name: &str) -> T {
        self.try_value(name)
            .unwrap_or_else(|error| self.exit(&error))
    }

    /// An address flag (as given, else its default); in smoke mode the port becomes 0 (any
    /// free port) unless the flag was given. A value that is not an address prints the usage
    /// and exits with status 2.
    ///
    /// # Panics
    ///
    /// As [`Args::value`].
    pub fn addr(&self, name: &str) -> SocketAddr {
        let mut addr: SocketAddr = self.value(name);
        if self.smoke() && !self.flag(name) {
            addr.set_port(0);
        }
        addr
    }

    /// `--smoke`: start, serve one real client exchange, exit 0.
    pub fn smoke(&self) -> bool {
        self.flag("--smoke")
    }

    fn try_value<T: FromStr>(&self, name: &str) -> Result<T, FlagError> {
        let flag = self
            .declared(name)
            .unwrap_or_else(|| panic!("`{name}` is not a declared flag"));
        let text = self
            .get(name)
            .unwrap_or_else(|| panic!("`{name}` has no value and no declared default"));
        text.parse().map_err(|_| FlagError::BadValue {
            flag: flag.name,
            value: text.to_owned(),
        })
    }

    fn declared(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|flag| flag.name == name)
    }

    fn exit(&self, error: &FlagError) -> ! {
        exit_with(self.program, &self.flags, error)
    }
}

/// The usage of `program`, which accepts `flags` (and `--help`): each flag with its help and
/// default.
fn usage(program: &str, flags: &[Flag]) -> String {
    let help = Flag::switch("--help", "print this help and exit");
    let all: Vec<&Flag> = flags.iter().chain([&help]).collect();
    let width = all
        .iter()
        .map(|flag| flag.synopsis().len())
        .max()
        .unwrap_or(0);
    let mut text = format!("usage: {program} [flags]\n\nflags:\n");
    for flag in all {
        let default = flag
            .default
            .map(|default| format!(" [default: {default}]"))
            .unwrap_or_default();
        text += &format!("  {:width$}  {}{default}\n", flag.synopsis(), flag.help);
    }
    text
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn exit_with(program: &str, flags: &[Flag], error: &FlagError) -> ! {
    if *error == FlagError::Help {
        print!("{}", usage(program, flags));
        std::process::exit(0);
    }
    eprintln!("{program}: {error}\n\n{}", usage(program, flags));
    std::process::exit(2);
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &[Flag] = &[
        Flag::value("--tcp", "ADDR", "TCP address").default_value("127.0.0.1:3260"),
        Flag::value("--heartbeat", "SECONDS", "heartbeat interval").default_value("30"),
        Flag::value("--node", "NAME", "this node's name"),
        Flag::value("--role", "ROLE", "what this node is").one_of(&["gate", "room"]),
        Flag::switch("--smoke", "free ports, one exchange, exit 0"),
    ];

    fn parse(args: &[&str]) -> Result<Args, FlagError> {
        Args::parse("test", FLAGS, args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn unknown_arguments_are_refused() {
        assert_eq!(
            parse(&["--smoke", "--bogus"]).unwrap_err(),
            FlagError::Unknown("--bogus".to_owned())
        );
        assert_eq!(
            parse(&["stray"]).unwrap_err(),
            FlagError::Unknown("stray".to_owned())
        );
        // A flag's value is not a flag of its own, and a switch takes none.
        assert_eq!(
            parse(&["--smoke", "yes"]).unwrap_err(),
            FlagError::Unknown("yes".to_owned())
        );
    }

    #[test]
    fn a_flag_without_its_value_is_refused() {
        assert_eq!(
            parse(&["--tcp"]).unwrap_err(),
            FlagError::MissingValue("--tcp")
        );
        assert_eq!(
            parse(&["--tcp", "--smoke"]).unwrap_err(),
            FlagError::MissingValue("--tcp")
        );
    }

    #[test]
    fn a_value_outside_the_choices_is_refused() {
        assert_eq!(
            parse(&["--role", "backend"]).unwrap_err(),
            FlagError::BadValue {
                flag: "--role",
                value: "backend".to_owned()
            }
        );
        assert_eq!(
            parse(&["--role", "room"]).unwrap().get("--role"),
            Some("room")
        );
        assert!(usage("test", FLAGS).contains("--role gate|room"));
    }

    #[test]
    fn repeats_and_help_are_reported() {
        assert_eq!(
            parse(&["--smoke", "--smoke"]).unwrap_err(),
            FlagError::Repeated("--smoke")
        );
        assert_eq!(parse(&["--tcp", "1", "-h"]).unwrap_err(), FlagError::Help);
        assert_eq!(parse(&["--help"]).unwrap_err(), FlagError::Help);
    }

    #[test]
    fn values_come_as_given_else_as_declared() {
        let args = parse(&["--heartbeat", "5", "--node", "room-a"]).unwrap();
        assert_eq!(args.value::<u64>("--heartbeat"), 5);
        assert_eq!(args.get("--node"), Some("room-a"));
        assert_eq!(args.get("--tcp"), Some("127.0.0.1:3260"));
        assert!(!args.smoke());

        let args = parse(&[]).unwrap();
        assert_eq!(args.value::<u64>("--heartbeat"), 30);
        assert_eq!(args.get("--node"), None);
    }

    #[test]
    fn bad_values_are_reported_with_their_flag() {
        let args = parse(&["--heartbeat", "soon", "--tcp", "nowhere"]).unwrap();
        assert_eq!(
            args.try_value::<u64>("--heartbeat").unwrap_err(),
            FlagError::BadValue {
                flag: "--heartbeat",
                value: "soon".to_owned()
            }
        );
        assert!(args.try_value::<SocketAddr>("--tcp").is_err());
    }

    #[test]
    fn smoke_mode_frees_the_ports_not_given() {
        let args = parse(&["--smoke"]).unwrap();
        assert_eq!(args.addr("--tcp"), "127.0.0.1:0".parse().unwrap());
        let args = parse(&["--smoke", "--tcp", "127.0.0.1:4000"]).unwrap();
        assert_eq!(args.addr("--tcp"), "127.0.0.1:4000".parse().unwrap());
        let args = parse(&[]).unwrap();
        assert_eq!(args.addr("--tcp"), "127.0.0.1:3260".parse().unwrap());
    }

    #[test]
    fn the_usage_lists_every_flag_with_its_help_and_default() {
        let usage = usage("test", FLAGS);
        assert!(usage.starts_with("usage: test [flags]"), "{usage}");
        for line in [
            "--tcp ADDR",
            "TCP address [default: 127.0.0.1:3260]",
            "--heartbeat SECONDS",
            "--node NAME",
            "--smoke",
            "--help",
        ] {
            assert!(usage.contains(line), "{line} missing from:\n{usage}");
        }
    }
}
