//! Checks of the model: the `impl` block itself, each handler's signature and parameters, and
//! the routes across handlers. Every error points at the offending tokens.

use std::collections::HashMap;
use std::mem;

use syn::{FnArg, ItemImpl, Signature};

use crate::ast::{Component, Handler, Param, ParamKind};

/// The longest route the protocol can carry by name.
pub(crate) const MAX_ROUTE_LEN: usize = 255;

/// What the block must be, whether or not a model could be built from it.
pub(crate) fn check_block(block: &ItemImpl, errors: &mut Vec<syn::Error>) {
    if let Some((_, trait_path, _)) = &block.trait_ {
        errors.push(syn::Error::new_spanned(
            trait_path,
            "`#[component]` goes on an inherent `impl` block (`impl Room { ... }`), not on a trait implementation",
        ));
    }
    if !block.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &block.generics,
            "generic components are not supported: implement the component for a concrete type",
        ));
    }
}

pub(crate) fn check(component: &Component, errors: &mut Vec<syn::Error>) {
    for handler in &component.handlers {
        qualifiers(&handler.signature, errors);
        receiver(&handler.signature, errors);
        params(handler, errors);
    }
    routes(component, errors);
    room_pushes(component, errors);
}

/// The push route every room kind declares itself (`nano_core::ROOM_CLOSED_ROUTE`).
pub(crate) const ROOM_CLOSED_ROUTE: &str = "onRoomClosed";

/// A room kind declares `onRoomClosed` on its own: declaring it again is a mistake.
fn room_pushes(component: &Component, errors: &mut Vec<syn::Error>) {
    if !component.room {
        return;
    }
    for push in &component.pushes {
        if push.route == ROOM_CLOSED_ROUTE {
            errors.push(syn::Error::new(
                push.route_span,
                format!(
                    "a room kind declares `{ROOM_CLOSED_ROUTE}` (body `nano_core::RoomClosed`) on its own; remove it from `pushes`"
                ),
            ));
        }
    }
}

/// No generics, `const`, `unsafe`, `extern` ABI or `...`: a route calls one concrete, plain
/// method.
fn qualifiers(signature: &Signature, errors: &mut Vec<syn::Error>) {
    if let Some(param) = signature
        .generics
        .params
        .iter()
        .find(|param| !matches!(param, syn::GenericParam::Lifetime(_)))
    {
        errors.push(syn::Error::new_spanned(
            param,
            "handlers cannot be generic: the route table needs concrete types",
        ));
    }
    if let Some(token) = &signature.constness {
        errors.push(syn::Error::new_spanned(
            token,
            "a handler cannot be `const`",
        ));
    }
    if let Some(token) = &signature.unsafety {
        errors.push(syn::Error::new_spanned(
            token,
            "a handler cannot be `unsafe`",
        ));
    }
    if let Some(abi) = &signature.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "a handler cannot have an `extern` ABI",
        ));
    }
    if let Some(variadic) = &signature.variadic {
        errors.push(syn::Error::new_spanned(
            variadic.dots,
            "a handler cannot be variadic",
        ));
    }
}

/// `&self` or `&mut self`.
fn receiver(signature: &Signature, errors: &mut Vec<syn::Error>) {
    match signature.inputs.first() {
        Some(FnArg::Receiver(receiver)) if receiver.colon_token.is_some() => {
            errors.push(syn::Error::new_spanned(
                receiver,
                "a handler's receiver is written `&self` or `&mut self`",
            ));
        }
        Some(FnArg::Receiver(receiver)) if receiver.reference.is_none() => {
            errors.push(syn::Error::new_spanned(
                receiver,
                "a handler takes `&self` or `&mut self`, not `self` by value",
            ));
        }
        Some(FnArg::Receiver(_)) => {}
        _ => errors.push(syn::Error::new_spanned(
            &signature.ident,
            "a handler is a method: its first parameter must be `&self` or `&mut self`",
        )),
    }
}

/// The session first, then at most one payload and at most one `&Context<Self>`, in either
/// order.
fn params(handler: &Handler, errors: &mut Vec<syn::Error>) {
    let Some(first) = handler.params.first() else {
        errors.push(syn::Error::new(
            handler.signature.paren_token.span.join(),
            "a handler needs a session parameter: `(&self, session: &Session)`, then optionally one payload parameter and `ctx: &Context<Self>`",
        ));
        return;
    };
    let has_session = |param: &Param| matches!(param.kind, ParamKind::Session { .. });
    if !handler.params.iter().any(has_session) {
        errors.push(syn::Error::new_spanned(
            &first.arg.ty,
            "the first parameter after the receiver must be the session (`&Session` or `Session`)",
        ));
    }
    for (index, param) in handler.params.iter().enumerate() {
        let again = handler.params[..index]
            .iter()
            .any(|earlier| mem::discriminant(&earlier.kind) == mem::discriminant(&param.kind));
        let message = match param.kind {
            ParamKind::Session { .. } if again => "the session parameter appears twice",
            ParamKind::Session { .. } if index > 0 => {
                "the session must be the first parameter after the receiver"
            }
            ParamKind::Context { .. } if again => "a handler takes at most one context parameter",
            ParamKind::Context { borrowed: false } => {
                errors.push(syn::Error::new_spanned(
                    &param.arg.ty,
                    "take the context by shared reference: `ctx: &Context<Self>`",
                ));
                continue;
            }
            ParamKind::Payload { .. } if again => {
                "a handler takes at most one payload parameter; put the fields in one struct"
            }
            _ => continue,
        };
        errors.push(syn::Error::new_spanned(&param.arg, message));
    }
}

/// Every route once, and short enough for the protocol.
fn routes(component: &Component, errors: &mut Vec<syn::Error>) {
    let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
    for handler in &component.handlers {
        if let Some(first) = seen.insert(&handler.route, handler.method()) {
            errors.push(syn::Error::new(
                handler.route_span,
                format!(
                    "duplicate route `{}`: method `{first}` already serves it",
                    handler.route
                ),
            ));
        }
        if handler.route.len() > MAX_ROUTE_LEN {
            errors.push(syn::Error::new(
                handler.route_span,
                format!(
                    "route `{}` is {} bytes; the protocol allows at most {MAX_ROUTE_LEN}",
                    handler.route,
                    handler.route.len()
                ),
            ));
        }
    }
}
