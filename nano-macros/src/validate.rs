//! Checks across a component's handlers (each handler's own signature is checked while
//! parsing).

use std::collections::HashMap;

use crate::ast::Component;

/// The longest route the protocol can carry by name.
const MAX_ROUTE_LEN: usize = 255;

pub(crate) fn check(component: &Component, errors: &mut Vec<syn::Error>) {
    let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
    for handler in &component.handlers {
        if let Some(first) = seen.insert(&handler.route, &handler.method) {
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
