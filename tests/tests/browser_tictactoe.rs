//! The tictactoe example in a real browser: headless Chromium (Debian's `chromium`, installed
//! by the test command) drives two pages through playwright-core. They are paired, a click out
//! of turn shows the server's refusal and changes nothing, X wins on the top row by clicks and
//! both pages show who won; both ask for a rematch and O starts the second game; O's page
//! closes in the middle of it and X's shows the opponent left (a win by forfeit), then finds a
//! new match. A screenshot of the won game is saved as `target/browser-tictactoe.png`.

use nano_tests::{examples, node};
use serde_json::{Value, json};

#[test]
fn two_browser_pages_play_a_game_to_a_win_and_see_the_opponent_leave() {
    assert!(
        std::path::Path::new(
            &std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
        )
        .exists(),
        "headless Chromium is missing: install Debian's `chromium` (./scripts/test.sh does)"
    );
    let game = examples::start(
        "tictactoe",
        &["--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"],
    );
    let url = format!("http://{}/", game.addr("http"));
    let screenshot = examples::target_dir()
        .parent()
        .expect("target")
        .join("browser-tictactoe.png");
    let _ = std::fs::remove_file(&screenshot);
    let output = node::run_script(
        "browser-tictactoe.js",
        &[&url, &screenshot.display().to_string()],
        b"",
    );
    let seen: Value =
        serde_json::from_str(output.trim()).unwrap_or_else(|_| panic!("bad output: {output}"));

    assert_eq!(seen["firstWaiting"], "Waiting for an opponent…", "{seen}");
    assert_eq!(seen["marks"], json!(["You are X", "You are O"]), "{seen}");
    assert_eq!(
        seen["startStatus"],
        json!(["Your turn", "Their turn"]),
        "{seen}"
    );
    assert_eq!(seen["outOfTurnError"], "not your turn", "{seen}");
    assert_eq!(
        seen["boardAfterOutOfTurn"],
        Value::from(vec![""; 9]),
        "{seen}"
    );
    assert_eq!(seen["endStatus"], json!(["You won!", "You lost"]), "{seen}");
    assert_eq!(
        seen["board"],
        json!(["X", "X", "X", "O", "O", "", "", "", ""]),
        "{seen}"
    );
    assert_eq!(seen["winCells"], json!([0, 1, 2]), "{seen}");
    assert_eq!(seen["againButton"], "Rematch", "{seen}");
    assert_eq!(
        seen["rematchNotice"], "Your opponent wants a rematch.",
        "{seen}"
    );
    assert_eq!(seen["againAfterAsking"], "Rematch asked…", "{seen}");
    assert_eq!(seen["secondGameBoard"], Value::from(vec![""; 9]), "{seen}");
    assert_eq!(
        seen["noticeAfterLeave"], "Your opponent left: you win by forfeit.",
        "{seen}"
    );
    assert_eq!(
        seen["statusAfterLeave"], "You won: your opponent left",
        "{seen}"
    );
    assert_eq!(seen["againAfterLeave"], "Find a new opponent", "{seen}");
    assert_eq!(
        seen["statusAfterNewMatch"], "Waiting for an opponent…",
        "{seen}"
    );
    assert!(screenshot.exists(), "screenshot saved");
}
