//! # nano-cli
//!
//! A command-line client for servers speaking the nano/Pomelo protocol (nano-rs, nano,
//! pomelo, pinus), built on `nano-client`: pitaya-cli's role for nano-rs. Interactive on a
//! terminal (line editing, history), or a script runner printing JSON lines when standard input
//! is not a terminal. `nano-cli --help` explains everything.
//!
//! Files: `args.rs` the options, `command.rs` the command language, `input.rs` where lines
//! come from, `session.rs` the connection and the loop, `execute.rs` each command,
//! `output.rs` JSON lines and human output.

mod args;
mod command;
mod execute;
mod input;
mod output;
mod session;

use std::io::IsTerminal;
use std::process::ExitCode;

use output::{Output, Sink};
use session::{Session, Settings};

fn main() -> ExitCode {
    let args = args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("nano-cli: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    ExitCode::from(runtime.block_on(run(args)))
}

/// Runs the session in the mode the standard input calls for; the exit status.
async fn run(args: args::Args) -> u8 {
    let script = args.script || !std::io::stdin().is_terminal();
    let settings = Settings {
        target: args.target.clone(),
        serializer: args.serializer.forced(),
        handshake_user: args.handshake.clone().unwrap_or(serde_json::Value::Null),
        request_timeout: args.timeout,
        connect_timeout: args.connect_timeout,
        script,
        keep_going: args.keep_going,
    };
    let connect_first = args.target.is_some() && !args.no_connect;
    let (input, sink) = if script {
        (input::script(), Sink::Stdout)
    } else {
        let history = args.history.clone().or_else(input::default_history);
        match input::interactive(history) {
            Ok(interactive) => interactive,
            Err(error) => {
                eprintln!("nano-cli: cannot set up the terminal ({error}); use --script");
                return 1;
            }
        }
    };
    let out = Output::new(script || args.json, sink);
    if !script {
        out_banner();
    }
    Session::new(settings, out).run(input, connect_first).await
}

/// The first line of the interactive mode.
fn out_banner() {
    eprintln!(
        "nano-cli {}: type `help` for the commands, Ctrl-D to quit",
        env!("CARGO_PKG_VERSION")
    );
}
