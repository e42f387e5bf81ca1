//! `--admin ADDR --admin-token TOKEN`: the flags of the examples that serve the admin page.

use nano_ws::admin::AdminConfig;

use crate::{Args, Flag};

/// `--admin ADDR`: where the admin page, its API and `/metrics` are served.
pub const ADMIN: Flag = Flag::value(
    "--admin",
    "ADDR",
    "serve the admin page, its API and /metrics on ADDR (needs --admin-token)",
);

/// `--admin-token TOKEN`: the bearer token the admin server requires.
pub const ADMIN_TOKEN: Flag = Flag::value(
    "--admin-token",
    "TOKEN",
    "the bearer token the admin server requires",
);

/// The admin server's settings when `--admin` is given; `--admin` without `--admin-token` is
/// an error.
///
/// # Errors
///
/// `--admin needs --admin-token` when the token is missing.
pub fn admin_config(args: &Args) -> Result<Option<AdminConfig>, &'static str> {
    if args.get("--admin").is_none() {
        return Ok(None);
    }
    let token = args
        .get("--admin-token")
        .ok_or("--admin needs --admin-token")?;
    Ok(Some(AdminConfig::new(token).addr(args.addr("--admin"))))
}
