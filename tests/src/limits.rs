//! Process limits a test depends on. A test that holds many sockets at once raises the open
//! file limit first: a common default soft limit is 1,024, and 1,000 clients plus the 1,000
//! server-side sockets of one in-process server do not fit in it.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Raises this process's soft limit on open files to at least `needed` (up to the hard limit)
/// and returns the limit now in force.
///
/// # Panics
///
/// When the hard limit is below `needed`: the test cannot hold what it is about, and says so
/// instead of failing later with "too many open files" (and taking other tests with it).
pub fn raise_open_files(needed: u64) -> u64 {
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    let hard = maximum.unwrap_or(u64::MAX);
    assert!(
        hard >= needed,
        "this test holds about {needed} open files, but the hard limit is {hard}: \
         raise it (`ulimit -Hn`) to run it"
    );
    let soft = current.unwrap_or(u64::MAX);
    if soft >= needed {
        return soft;
    }
    let raised = Rlimit {
        current: Some(needed),
        maximum,
    };
    setrlimit(Resource::Nofile, raised).expect("raising the soft limit up to the hard limit");
    needed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_raised_and_never_lowered() {
        let before = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
        let wanted = before
            .saturating_add(1)
            .min(getrlimit(Resource::Nofile).maximum.unwrap_or(u64::MAX));
        let now = raise_open_files(wanted);
        assert!(now >= wanted);
        assert!(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX) >= wanted);
        assert_eq!(
            raise_open_files(16),
            now,
            "a smaller need leaves the limit alone"
        );
    }
}
