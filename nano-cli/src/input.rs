//! Where command lines come from: standard input (script mode), or a rustyline editor with
//! history (interactive mode). Either reads on a thread of its own and hands lines to the
//! async session through a channel, so pushes are printed while it waits for input.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;

use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{DefaultEditor, Editor};
use tokio::sync::mpsc;

use crate::output::Sink;

/// One input line and its number (from 1).
#[derive(Clone, Debug)]
pub(crate) struct Line {
    /// Its number, counting from 1.
    pub(crate) number: usize,
    /// Its text, without the line end.
    pub(crate) text: String,
}

/// The lines to run.
pub(crate) struct Input {
    lines: mpsc::Receiver<Line>,
    /// Interactive mode: the next prompt, sent when the session wants the next line.
    prompts: Option<std_mpsc::Sender<String>>,
}

impl Input {
    /// The next line, or `None` at the end of the input.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub(crate) async fn next(&mut self) -> Option<Line> {
        self.lines.recv().await
    }

    /// Asks for the next line with `prompt` (interactive mode; a no-op for scripts).
    pub(crate) fn ready(&self, prompt: String) {
        if let Some(prompts) = &self.prompts {
            let _ = prompts.send(prompt);
        }
    }
}

/// Standard input, line by line.
pub(crate) fn script() -> Input {
    let (sender, lines) = mpsc::channel(64);
    std::thread::spawn(move || {
        let stdin = std::io::stdin().lock();
        for (index, text) in stdin.lines().enumerate() {
            // A read error (input that is not UTF-8, say) ends the script like its end.
            let Ok(text) = text else { break };
            let line = Line {
                number: index + 1,
                text,
            };
            if sender.blocking_send(line).is_err() {
                break;
            }
        }
    });
    Input {
        lines,
        prompts: None,
    }
}

/// A line editor on the terminal, with its history in `history` (not kept if it cannot be
/// read or written), and the sink that prints above its prompt.
///
/// # Errors
///
/// When the terminal cannot be set up.
pub(crate) fn interactive(history: Option<PathBuf>) -> Result<(Input, Sink), ReadlineError> {
    let config = Config::builder()
        .max_history_size(10_000)?
        .auto_add_history(true)
        .build();
    let mut editor: DefaultEditor = Editor::with_config(config)?;
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let sink = match editor.create_external_printer() {
        Ok(printer) => Sink::Printer(Box::new(printer)),
        Err(_) => Sink::Stdout,
    };
    let (sender, lines) = mpsc::channel(1);
    let (prompts, prompt_receiver) = std_mpsc::channel();
    std::thread::spawn(move || read_lines(editor, history, prompt_receiver, sender));
    let input = Input {
        lines,
        prompts: Some(prompts),
    };
    Ok((input, sink))
}

/// The editor's loop: waits for a prompt, reads a line, saves the history, hands it over.
fn read_lines(
    mut editor: Editor<(), FileHistory>,
    history: Option<PathBuf>,
    prompts: std_mpsc::Receiver<String>,
    lines: mpsc::Sender<Line>,
) {
    let mut number = 0;
    while let Ok(prompt) = prompts.recv() {
        let text = loop {
            match editor.readline(&prompt) {
                Ok(text) => break Some(text),
                // Ctrl-C drops the line being typed, as in a shell.
                Err(ReadlineError::Interrupted) => {}
                Err(_) => break None,
            }
        };
        let Some(text) = text else { break };
        if let Some(path) = &history {
            save_history(&mut editor, path);
        }
        number += 1;
        if lines.blocking_send(Line { number, text }).is_err() {
            break;
        }
    }
}

fn save_history(editor: &mut Editor<(), FileHistory>, path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = editor.save_history(path);
}

/// The default history file: `nano-cli/history` in the user's data directory
/// (`$XDG_DATA_HOME`, else `~/.local/share`; `%APPDATA%` on Windows).
pub(crate) fn default_history() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    let data = if cfg!(windows) {
        var("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|home| PathBuf::from(home).join("Library/Application Support"))
    } else {
        var("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".local/share")))
    }?;
    Some(data.join("nano-cli").join("history"))
}
