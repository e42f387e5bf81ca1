//! The options of `#[component(...)]` and `#[handler(...)]`: parsed, their values checked,
//! and every mistake collected.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, LitStr, Meta, Path, Token};

use crate::naming::RenameRule;

/// `#[component(...)]`.
#[derive(Default)]
pub(crate) struct ComponentOptions {
    /// `name = "room"`.
    pub(crate) name: Option<String>,
    /// `rename_all = "..."`.
    pub(crate) rename_all: Option<RenameRule>,
    /// `crate = "::path::to::nano_core"`.
    pub(crate) krate: Option<Path>,
    /// `pushes(onMessage = Chat, ...)`: the push routes and their body types.
    pub(crate) pushes: Vec<PushDecl>,
    /// `room`: a room kind, whose instances are created at run time.
    pub(crate) room: bool,
}

/// One `route = Type` of `pushes(...)`.
pub(crate) struct PushDecl {
    /// The push route (`onMessage`, or a string literal for any other name).
    pub(crate) route: String,
    /// Where to point errors about the route.
    pub(crate) route_span: proc_macro2::Span,
    /// The type of the bodies pushed on it.
    pub(crate) ty: syn::Type,
}

impl syn::parse::Parse for PushDecl {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let (route, route_span) = if input.peek(LitStr) {
            let text: LitStr = input.parse()?;
            (text.value(), text.span())
        } else if input.peek(syn::Ident) {
            let ident: syn::Ident = input.parse()?;
            (ident.to_string(), ident.span())
        } else {
            return Err(input.error(
                "expected a push route, like `onMessage = Chat` or `\"on.message\" = Chat`",
            ));
        };
        input.parse::<Token![=]>().map_err(|error| {
            syn::Error::new(
                error.span(),
                format!("expected `=` and the body type after push route `{route}`"),
            )
        })?;
        let ty = input.parse()?;
        Ok(Self {
            route,
            route_span,
            ty,
        })
    }
}

/// `#[handler(...)]`.
#[derive(Default)]
pub(crate) struct HandlerOptions {
    /// `name = "join"`: the method part of the route.
    pub(crate) name: Option<LitStr>,
}

const COMPONENT_KEYS: &str = "`name`, `rename_all`, `crate`, `pushes`, `room`";
const HANDLER_KEYS: &str = "`name`";

/// The options of an attribute, or `None` with its syntax error recorded.
fn recorded(
    parsed: syn::Result<Punctuated<Meta, Token![,]>>,
    errors: &mut Vec<syn::Error>,
) -> Option<Punctuated<Meta, Token![,]>> {
    parsed.map_err(|error| errors.push(error)).ok()
}

/// Reads `#[component(...)]`'s arguments.
pub(crate) fn component_options(
    args: TokenStream,
    errors: &mut Vec<syn::Error>,
) -> ComponentOptions {
    let mut options = ComponentOptions::default();
    let parsed = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args);
    let Some(metas) = recorded(parsed, errors) else {
        return options;
    };
    let mut given = Given::default();
    for meta in &metas {
        let key = key(meta);
        let known = matches!(
            key.as_str(),
            "name" | "rename_all" | "crate" | "pushes" | "room"
        );
        if known && given.again(meta, errors) {
            continue;
        }
        match key.as_str() {
            "name" => options.name = name_value(meta, "component", errors).map(|v| v.value()),
            "rename_all" => options.rename_all = rename_value(meta, errors),
            "crate" => options.krate = crate_value(meta, errors),
            "pushes" => options.pushes = pushes_value(meta, errors),
            "room" => options.room = flag_value(meta, errors),
            "lifecycle" => errors.push(syn::Error::new_spanned(
                meta.path(),
                "`lifecycle` is not needed: implement `nano_core::Lifecycle` for the type and nano-rs finds it",
            )),
            _ => errors.push(syn::Error::new_spanned(
                meta.path(),
                format!("unknown `#[component]` option; expected one of {COMPONENT_KEYS}"),
            )),
        }
    }
    options
}

/// Reads a `#[handler]` or `#[handler(...)]` attribute.
pub(crate) fn handler_options(attr: &Attribute, errors: &mut Vec<syn::Error>) -> HandlerOptions {
    let mut options = HandlerOptions::default();
    let list = match &attr.meta {
        Meta::Path(_) => return options,
        Meta::NameValue(_) => {
            errors.push(syn::Error::new_spanned(
                attr,
                "expected `#[handler]` or `#[handler(name = \"...\")]`",
            ));
            return options;
        }
        Meta::List(list) => list,
    };
    let parsed = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated);
    let Some(metas) = recorded(parsed, errors) else {
        return options;
    };
    let mut given = Given::default();
    for meta in &metas {
        if !meta.path().is_ident("name") {
            errors.push(syn::Error::new_spanned(
                meta.path(),
                format!("unknown `#[handler]` option; expected {HANDLER_KEYS}"),
            ));
        } else if !given.again(meta, errors) {
            options.name = name_value(meta, "handler", errors);
        }
    }
    options
}

/// The options an attribute has given so far, for the one "given more than once" error.
#[derive(Default)]
struct Given(Vec<String>);

impl Given {
    /// Records `meta`'s key; when it was given before, reports it (on the repeated key) and
    /// returns `true`, so that the first value stands.
    fn again(&mut self, meta: &Meta, errors: &mut Vec<syn::Error>) -> bool {
        let key = key(meta);
        if self.0.contains(&key) {
            errors.push(syn::Error::new_spanned(
                meta.path(),
                format!("`{key}` is given more than once"),
            ));
            return true;
        }
        self.0.push(key);
        false
    }
}

fn key(meta: &Meta) -> String {
    meta.path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// `name = "..."`: non-empty, without a dot (the dot separates the component from the method).
fn name_value(meta: &Meta, owner: &str, errors: &mut Vec<syn::Error>) -> Option<LitStr> {
    let value = string_value(meta, errors)?;
    let text = value.value();
    if text.is_empty() || text.contains('.') {
        errors.push(syn::Error::new_spanned(
            &value,
            format!("a {owner} name must be non-empty and contain no `.`"),
        ));
        return None;
    }
    Some(value)
}

fn rename_value(meta: &Meta, errors: &mut Vec<syn::Error>) -> Option<RenameRule> {
    let value = string_value(meta, errors)?;
    let rule = RenameRule::from_name(&value.value());
    if rule.is_none() {
        errors.push(syn::Error::new_spanned(
            &value,
            format!(
                "unknown `rename_all` rule; expected one of {}",
                RenameRule::VALID
            ),
        ));
    }
    rule
}

fn crate_value(meta: &Meta, errors: &mut Vec<syn::Error>) -> Option<Path> {
    let value = string_value(meta, errors)?;
    match value.parse::<Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            errors.push(syn::Error::new_spanned(
                &value,
                "`crate` must be a path, like \"::my_crate::nano_core\"",
            ));
            None
        }
    }
}

/// `room`: a bare flag, with no value or arguments.
fn flag_value(meta: &Meta, errors: &mut Vec<syn::Error>) -> bool {
    if let Meta::Path(_) = meta {
        return true;
    }
    let key = key(meta);
    errors.push(syn::Error::new_spanned(
        meta,
        format!(
            "`{key}` takes no value: write `#[component({key})]`, and set the room kind's limits in `nano_core::RoomConfig`"
        ),
    ));
    false
}

/// `pushes(onMessage = Chat, ...)`: a non-empty list of routes, each declared once.
fn pushes_value(meta: &Meta, errors: &mut Vec<syn::Error>) -> Vec<PushDecl> {
    let Meta::List(list) = meta else {
        errors.push(syn::Error::new_spanned(
            meta,
            "expected `pushes(onMessage = BodyType, ...)`",
        ));
        return Vec::new();
    };
    let parsed = list.parse_args_with(Punctuated::<PushDecl, Token![,]>::parse_terminated);
    let Ok(decls) = parsed.map_err(|error| errors.push(error)) else {
        return Vec::new();
    };
    if decls.is_empty() {
        errors.push(syn::Error::new_spanned(
            meta,
            "`pushes()` is empty: declare at least one `route = BodyType`, or leave the option out",
        ));
    }
    let mut pushes: Vec<PushDecl> = Vec::new();
    for decl in decls {
        if let Some(problem) = push_route_problem(&decl.route, &pushes) {
            errors.push(syn::Error::new(decl.route_span, problem));
        } else {
            pushes.push(decl);
        }
    }
    pushes
}

/// Why `route` cannot be declared after `declared`, if it cannot.
fn push_route_problem(route: &str, declared: &[PushDecl]) -> Option<String> {
    if route.is_empty() || route.len() > crate::validate::MAX_ROUTE_LEN {
        return Some(format!(
            "a push route has 1 to {} bytes",
            crate::validate::MAX_ROUTE_LEN
        ));
    }
    declared
        .iter()
        .any(|push| push.route == route)
        .then(|| format!("push route `{route}` is declared twice"))
}

/// The string literal of `key = "..."`.
fn string_value(meta: &Meta, errors: &mut Vec<syn::Error>) -> Option<LitStr> {
    let Meta::NameValue(pair) = meta else {
        errors.push(syn::Error::new_spanned(
            meta,
            format!("expected `{} = \"...\"`", key(meta)),
        ));
        return None;
    };
    // `macro_rules!` fragments (`name = $route`) arrive wrapped in invisible groups.
    let tokens = flatten_groups(quote::ToTokens::to_token_stream(&pair.value));
    match syn::parse2::<LitStr>(tokens) {
        Ok(text) => Some(text),
        Err(_) => {
            errors.push(syn::Error::new_spanned(meta, "expected a string literal"));
            None
        }
    }
}

/// Removes invisible (`None`-delimited) groups, which `macro_rules!` puts around fragments.
fn flatten_groups(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|token| match token {
            proc_macro2::TokenTree::Group(group)
                if group.delimiter() == proc_macro2::Delimiter::None =>
            {
                flatten_groups(group.stream())
                    .into_iter()
                    .collect::<Vec<_>>()
            }
            other => vec![other],
        })
        .collect()
}
