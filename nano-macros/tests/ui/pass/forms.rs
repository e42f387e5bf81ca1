//! Every accepted handler form on a shared (`&self`) component.

use bytes::Bytes;
use nano_core::prelude::*;
use nano_core::{Component, Execution, HandlerKind, PayloadKind};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Join {
    name: String,
}

#[derive(Serialize)]
struct Joined {
    code: i32,
}

#[derive(Debug)]
struct Failure;

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failure")
    }
}

impl std::error::Error for Failure {}

struct Forms;

#[component(name = "forms")]
impl Forms {
    #[handler]
    fn unit(&self, _session: &Session) {}

    #[handler]
    fn typed(&self, _session: &Session, join: Join) -> Joined {
        Joined { code: join.name.len() as i32 }
    }

    #[handler]
    fn raw(&self, _session: &Session, payload: Bytes) -> Bytes {
        payload
    }

    #[handler]
    fn result(&self, _session: &Session, join: Join) -> Result<Joined, HandlerError> {
        Ok(Joined { code: join.name.len() as i32 })
    }

    #[handler]
    fn unit_result(&self, _session: &Session) -> Result<(), Failure> {
        Err(Failure)
    }

    #[handler]
    fn bytes_result(&self, _session: &Session) -> Result<Bytes, HandlerError> {
        Ok(Bytes::from_static(b"raw"))
    }

    #[handler]
    fn deferred(&self, session: &Session) -> Deferred {
        let _ = session.respond(session.last_mid(), &1);
        Deferred
    }

    #[handler]
    fn owned_session(&self, session: Session, value: u64) -> u64 {
        value + session.id()
    }

    #[handler]
    async fn async_unit(&self, _session: &Session) {}

    #[handler]
    async fn async_typed(&self, _session: &Session, join: Join) -> Result<Joined, HandlerError> {
        tokio::task::yield_now().await;
        Ok(Joined { code: join.name.len() as i32 })
    }

    #[handler]
    async fn async_raw(&self, _session: &Session, payload: Bytes) -> Bytes {
        payload
    }

    /// An ordinary method: not a route.
    fn helper(&self) -> u32 {
        7
    }
}

fn main() {
    let meta = <Forms as Component>::META;
    assert_eq!(meta.name, "forms");
    assert_eq!(meta.type_name, "Forms");
    assert_eq!(meta.execution, Execution::Shared);
    let routes: Vec<_> = meta.routes.iter().map(|r| (r.route, r.kind, r.payload)).collect();
    assert_eq!(
        routes,
        [
            ("forms.unit", HandlerKind::Notify, PayloadKind::None),
            ("forms.typed", HandlerKind::Request, PayloadKind::Typed),
            ("forms.raw", HandlerKind::Request, PayloadKind::Raw),
            ("forms.result", HandlerKind::Request, PayloadKind::Typed),
            ("forms.unit_result", HandlerKind::Notify, PayloadKind::None),
            ("forms.bytes_result", HandlerKind::Request, PayloadKind::None),
            ("forms.deferred", HandlerKind::Request, PayloadKind::None),
            ("forms.owned_session", HandlerKind::Request, PayloadKind::Typed),
            ("forms.async_unit", HandlerKind::Notify, PayloadKind::None),
            ("forms.async_typed", HandlerKind::Request, PayloadKind::Typed),
            ("forms.async_raw", HandlerKind::Request, PayloadKind::Raw),
        ]
    );
    assert_eq!(Forms.helper(), 7);
}
