//! The command line of `nano-bench`: one subcommand per scenario, and `report`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::scenarios::{Broadcast, Connections, Moves, Notify, Options, Request, Soak, Storm};
use crate::values;

/// Load generator for nano/Pomelo protocol servers.
///
/// Each scenario opens `--conns` connections to `--tcp HOST:PORT` or `--ws URL`, runs for
/// `--duration`, and prints a JSON summary (throughput, latency percentiles, errors, and its
/// own CPU use, so that a run where the generator was the bottleneck shows as such).
#[derive(Parser, Debug)]
#[command(name = "nano-bench", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What to run.
#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// N connections, each a loop of request -> response (closed, or paced with --rate)
    Request(Run<Request>),
    /// N connections, each a loop of notify -> the push it triggers (closed, or paced with
    /// --rate)
    Notify(Run<Notify>),
    /// N members of one group; one of them broadcasts, every member counts deliveries
    Broadcast(Run<Broadcast>),
    /// Open N idle sessions, hold them with heartbeats, report the server's cost per session
    ///
    /// Reports the handshake rate, and with --pid the server's RSS before and after opening
    /// the sessions and per session.
    Connections(Run<Connections>),
    /// N clients connect and handshake at the same moment (a restart, a network blip)
    ///
    /// Reports the time until all are connected, handshakes per second over it, each
    /// client's connect + handshake latency, and the clients that failed (with the first
    /// error); the sessions are then held for --duration.
    Storm(Run<Storm>),
    /// Matches of --players connections against rooms-server; each player a closed loop of
    /// move -> its own move pushed back by the match
    Moves(Run<Moves>),
    /// Long-run chat clients against soak-server
    ///
    /// N chat clients in --rooms rooms, each sending a message every --message-interval,
    /// while the server's RSS is sampled (--pid); then they leave and the server must be
    /// empty, or with --shutdown the server is sent SIGTERM while every client has a request
    /// in flight, and every such request must be answered.
    Soak(Run<Soak>),
    /// Turn a run's JSON lines into the tables of BENCHMARKS.md
    Report(Report),
}

/// A scenario's command line: the common options, the scenario's own, and the output's.
#[derive(Args, Debug)]
pub(crate) struct Run<P: Args> {
    #[command(flatten, next_help_heading = "Connections")]
    pub(crate) options: Options,
    #[command(flatten, next_help_heading = "Scenario")]
    pub(crate) scenario: P,
    #[command(flatten, next_help_heading = "Output")]
    pub(crate) output: Output,
}

/// Where the summary goes, and the client's threads.
#[derive(Args, Debug)]
pub(crate) struct Output {
    /// Client worker threads [default: one per core]
    #[arg(long, value_name = "N", value_parser = values::at_least_one())]
    pub(crate) threads: Option<usize>,
    /// Print the summary as one JSON line (default: pretty-printed)
    #[arg(long)]
    pub(crate) json: bool,
    /// Add a field to the summary (repeatable), as bench/run.sh does to label its runs
    #[arg(long, value_name = "KEY=VALUE", value_parser = values::tag)]
    pub(crate) tag: Vec<(String, String)>,
}

/// `report`'s arguments.
#[derive(Args, Debug)]
pub(crate) struct Report {
    /// A run's JSON lines (bench/results/RUN/runs.jsonl)
    pub(crate) input: PathBuf,
    /// The Markdown file to write (BENCHMARKS.md)
    pub(crate) output: PathBuf,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::CommandFactory;
    use clap::error::ErrorKind;

    use super::*;

    fn parse(line: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("nano-bench").chain(line.split_whitespace()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_readme_command_line_parses_with_its_defaults() {
        let cli = parse("request --tcp 127.0.0.1:3260 --conns 1000 --duration 10").unwrap();
        let Command::Request(run) = cli.command else {
            panic!("not a request run: {cli:?}");
        };
        assert_eq!(run.options.conns, 1000);
        assert_eq!(run.options.duration, Duration::from_secs(10));
        assert_eq!(run.options.target().transport(), "tcp");
        assert_eq!(run.output.threads, None);
        assert!(!run.output.json);
    }

    #[test]
    fn durations_take_units_and_tags_repeat() {
        let cli =
            parse("notify --ws ws://127.0.0.1:3261/ --duration 3s --tag a=1 --tag b=2=3").unwrap();
        let Command::Notify(run) = cli.command else {
            panic!("not a notify run: {cli:?}");
        };
        assert_eq!(run.options.duration, Duration::from_secs(3));
        assert_eq!(run.options.target().transport(), "ws");
        assert_eq!(
            run.output.tag,
            [
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "2=3".to_owned())
            ]
        );
    }

    #[test]
    fn mistakes_are_errors() {
        let error = |line: &str| parse(line).map(|_| ()).unwrap_err().kind();
        assert_eq!(
            error("request --tcp 127.0.0.1:1 --bogus"),
            ErrorKind::UnknownArgument
        );
        assert_eq!(
            error("request --tcp 127.0.0.1:1 --duration 3x"),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            error("request --tcp 127.0.0.1:1 --conns 0"),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            error("request --tcp 127.0.0.1:1 --rate 0"),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            error("request --conns 5"),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            error("request --tcp 127.0.0.1:1 --ws ws://127.0.0.1:2/"),
            ErrorKind::ArgumentConflict
        );
        // An option of another scenario.
        assert_eq!(
            error("request --tcp 127.0.0.1:1 --rooms 3"),
            ErrorKind::UnknownArgument
        );
        assert_eq!(
            error("soak --tcp 127.0.0.1:1 --shutdown"),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            error("flood --tcp 127.0.0.1:1"),
            ErrorKind::InvalidSubcommand
        );
        assert_eq!(
            error("report only-one.jsonl"),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn help_lists_every_scenario_and_option() {
        let help = Cli::command().render_long_help().to_string();
        for scenario in [
            "request",
            "notify",
            "broadcast",
            "connections",
            "soak",
            "report",
        ] {
            assert!(help.contains(scenario), "{scenario} missing from:\n{help}");
        }
        let mut soak = Cli::command();
        let soak = soak.find_subcommand_mut("soak").unwrap();
        let help = soak.render_long_help().to_string();
        for option in [
            "--tcp",
            "--ws",
            "--conns",
            "--duration",
            "--rooms",
            "--message-interval",
            "--shutdown",
            "--pid",
            "--json",
            "--tag",
            "--threads",
            "[default: 10s]",
        ] {
            assert!(help.contains(option), "{option} missing from:\n{help}");
        }
    }
}
