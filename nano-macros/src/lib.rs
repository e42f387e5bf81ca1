//! # nano-macros
//!
//! Attribute macros for nano-rs, re-exported by `nano-core` (feature `macros`, on by default):
//!
//! - `#[component]` on an inherent `impl` block turns its `#[handler]` methods into routes
//!   (`"component.method"`), generating at compile time the route table, the payload decoding
//!   and the dispatch code.
//! - `#[handler]` marks a method as a route. It only has meaning inside a `#[component]` block;
//!   anywhere else it is an error.
//!
//! The crate is split by phase: `attr` reads the attributes' options, `ast` builds a model of
//! the block, `validate` checks it, and `expand` (which never fails) writes the code. Every
//! mistake is a `syn::Error` on the offending tokens; all of them are reported at once, and the
//! user's `impl` block is still emitted, with a stand-in `impl Component`, so that the rest of
//! the crate (and the IDE) keeps working and shows no second, misleading error.
//!
//! See the `nano-core` documentation of `component` for the accepted forms.

mod ast;
mod attr;
mod expand;
mod naming;
mod validate;

use proc_macro::TokenStream;

/// Turns an inherent `impl` block into a nano-rs component: its `#[handler]` methods become
/// routes that clients call as `"component.method"`.
///
/// ```
/// use nano_core::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Join { name: String }
///
/// #[derive(Serialize)]
/// struct Joined { code: i32, result: String }
///
/// #[derive(Default)]
/// struct Room { members: Group }
///
/// #[component(name = "room", rename_all = "lowercase")]
/// impl Room {
///     /// `room.join`: a request, answered by the return value.
///     #[handler]
///     fn join(&self, session: &Session, join: Join) -> Result<Joined, HandlerError> {
///         self.members.add(session)?;
///         Ok(Joined { code: 0, result: format!("welcome, {}", join.name) })
///     }
///
///     /// `room.leave`: a notify (returns `()`), no response.
///     #[handler]
///     async fn leave(&self, session: &Session) {
///         let _ = self.members.leave(session);
///     }
///
///     /// Not a route: an ordinary method.
///     fn size(&self) -> usize { self.members.count() }
/// }
///
/// use nano_core::Component;
/// let routes: Vec<_> = Room::META.routes.iter().map(|r| r.route).collect();
/// assert_eq!(routes, ["room.join", "room.leave"]);
/// ```
///
/// # Options
///
/// - `name = "room"`: the component name (default: the type's name, `Room`).
/// - `rename_all = "..."`: how method names become route names: `"lowercase"`
///   (`send_message` → `sendmessage`, like nano's `strings.ToLower`), `"camelCase"`
///   (`sendMessage`), `"PascalCase"` (`SendMessage`), `"snake_case"` (`send_message`). Default:
///   the method name as written.
/// - `crate = "::path::to::nano_core"`: where nano-core is, for crates that re-export it.
/// - `pushes(onMessage = Chat, "room.members" = Vec<String>, ...)`: the push routes the
///   component sends on, each with the type of its bodies (which must implement
///   `serde::Serialize`; a route that is not an identifier is a string literal). They join the
///   route dictionary after the handler routes, and `App::manifest()` lists them with their
///   types, for typed clients. Each route is declared once.
/// - `room`: a room kind, whose instances `nano_core::Rooms` creates at run time, each an
///   actor of its own; implement `nano_core::Room` for the type and serve it with
///   `AppBuilder::rooms` (not `register`). It declares the `onRoomClosed` push. Its
///   `Lifecycle` hooks are not run: `Room::create` and `Room::joined` set a room up.
///
/// Each option is given at most once. Lifecycle hooks need no option: implement
/// `nano_core::Lifecycle` for the type and the component runs them.
///
/// # Handlers
///
/// A handler is a method marked `#[handler]` (or `#[handler(name = "route_name")]`, which
/// replaces the method part of the route and ignores `rename_all`):
///
/// - `fn` or `async fn`;
/// - receiver `&self`, or `&mut self`: then the component is an *actor*, whose handlers, timers
///   and posted closures run one at a time on its own task;
/// - then the session: `&Session` or `Session`;
/// - then, in either order, at most one payload and at most one context:
///   - the payload: any `serde::de::DeserializeOwned` type, decoded with the app's serializer,
///     or `bytes::Bytes` for the raw payload;
///   - the context, `ctx: &Context<Self>` (`nano_core::Context`): the app's scheduler and, for
///     an actor, the component's own `ActorHandle`, e.g. to start a timer;
/// - returning `()` (a notify; a request to it gets `{}`), any `T: Serialize` (the response),
///   `bytes::Bytes` (a raw response), `Result<T, E>` or `Result<(), E>` where `E` converts into
///   `HandlerError` (an error becomes an error response), or `Deferred` (the handler answers
///   later with `Session::respond`).
///
/// Parameters are recognized by the last segment of their type's name: `Session`, `Context`
/// and `Bytes` (with any path before it).
///
/// ```
/// use std::time::Duration;
/// use nano_core::prelude::*;
///
/// #[derive(Default)]
/// struct Match { round: u32 }
///
/// #[component(name = "match")]
/// impl Match {
///     /// `match.start`: round 2 starts ten seconds later, on the match's own task.
///     #[handler]
///     fn start(&mut self, _session: &Session, round: u32, ctx: &Context<Self>) {
///         self.round = round;
///         if let Some(actor) = ctx.actor() {
///             actor.after(Duration::from_secs(10), |game: &mut Match| game.round += 1);
///         }
///     }
/// }
/// ```
///
/// # Errors
///
/// Every mistake is reported at the offending token, all at once, and the `impl` block is still
/// emitted. For example, a payload type that cannot be deserialized:
///
/// ```compile_fail
/// use nano_core::prelude::*;
///
/// struct Join { name: String } // no #[derive(Deserialize)]
///
/// struct Room;
///
/// #[component]
/// impl Room {
///     #[handler]
///     fn join(&self, session: &Session, join: Join) {}
///     // error[E0277]: `Join` cannot be a handler payload
/// }
/// ```
///
/// Two payload parameters:
///
/// ```compile_fail
/// use nano_core::prelude::*;
///
/// struct Room;
///
/// #[component]
/// impl Room {
///     #[handler]
///     fn join(&self, session: &Session, name: String, level: u32) {}
///     // error: a handler takes at most one payload parameter; put the fields in one struct
/// }
/// ```
///
/// The session missing, or not first:
///
/// ```compile_fail
/// use nano_core::prelude::*;
///
/// struct Room;
///
/// #[component]
/// impl Room {
///     #[handler]
///     fn join(&self, name: String) {}
///     // error: the first parameter after the receiver must be the session
/// }
/// ```
///
/// Two methods on one route:
///
/// ```compile_fail
/// use nano_core::prelude::*;
///
/// struct Room;
///
/// #[component(name = "room")]
/// impl Room {
///     #[handler]
///     fn join(&self, session: &Session) {}
///
///     #[handler(name = "join")]
///     fn enter(&self, session: &Session) {}
///     // error: duplicate route `room.join`: method `join` already serves it
/// }
/// ```
#[proc_macro_attribute]
pub fn component(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let item = proc_macro2::TokenStream::from(item);
    let mut block: syn::ItemImpl = match syn::parse2(item.clone()) {
        Ok(block) => block,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "`#[component]` goes on an inherent `impl` block, e.g. `#[component] impl Room { ... }`",
            );
            return with_errors(item, error);
        }
    };
    let (model, mut errors) = ast::parse(args, &mut block);
    validate::check_block(&block, &mut errors);
    if let Some(model) = &model {
        validate::check(model, &mut errors);
    }
    let error = errors.into_iter().reduce(|mut all, next| {
        all.combine(next);
        all
    });
    match (model, error) {
        (Some(model), None) => expand::expand(&model, &block).into(),
        // A generic block's stand-in would only add errors about its parameters.
        (Some(model), Some(error)) if block.generics.params.is_empty() => {
            let fallback = expand::fallback(&model);
            with_errors(quote::quote!(#block #fallback), error)
        }
        (_, Some(error)) => with_errors(quote::quote!(#block), error),
        (None, None) => quote::quote!(#block).into(),
    }
}

/// Marks a method of a `#[component]` `impl` block as a route handler; see [`macro@component`]
/// for the accepted signatures.
///
/// Accepts `#[handler]` or `#[handler(name = "route_name")]`. Outside a `#[component]` block it
/// is a compile error:
///
/// ```compile_fail
/// use nano_core::prelude::*;
///
/// struct Room;
///
/// impl Room {
///     #[handler]
///     fn join(&self, session: &Session) {}
///     // error: `#[handler]` only works on methods of an `impl` block marked `#[component]`
/// }
/// ```
#[proc_macro_attribute]
pub fn handler(_args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        "`#[handler]` only works on methods of an `impl` block marked `#[component]`",
    );
    with_errors(item, error)
}

/// The user's item followed by the errors, so that the item still exists for the IDE and for
/// the rest of the crate.
fn with_errors(item: proc_macro2::TokenStream, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote::quote!(#item #errors).into()
}
