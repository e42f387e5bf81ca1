//! The model of a component, built from the syntax of its `impl` block.
//!
//! (Compile-time data: the size of the enums below does not matter.)
//!
//! Parsing collects every error it finds instead of stopping at the first, and strips the
//! `#[handler]` attributes from the block so that the block can be emitted as is.

#![allow(clippy::large_enum_variant)]

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{
    Attribute, FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, LitStr, Meta, Path,
    PathArguments, ReturnType, Token, Type,
};

use crate::naming::RenameRule;

/// A whole `#[component]`.
pub(crate) struct Component {
    /// The type the block implements (`Room`).
    pub(crate) self_ty: Type,
    /// The type's name as written (`"Room"`).
    pub(crate) type_name: String,
    /// The component name, the part of routes before the dot.
    pub(crate) name: String,
    /// Where `nano_core` is (`::nano_core` unless `crate = "..."`).
    pub(crate) krate: Path,
    /// `lifecycle`: the user implements `Lifecycle` themselves.
    pub(crate) lifecycle: bool,
    pub(crate) handlers: Vec<Handler>,
}

/// One `#[handler]` method.
pub(crate) struct Handler {
    pub(crate) method: syn::Ident,
    /// The full route (`"room.join"`).
    pub(crate) route: String,
    /// Where to point errors about the route (the method name, or the `name = "..."` literal).
    pub(crate) route_span: Span,
    pub(crate) is_async: bool,
    pub(crate) receiver: Receiver,
    pub(crate) session: SessionParam,
    pub(crate) payload: Payload,
    pub(crate) output: Output,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Receiver {
    Ref,
    Mut,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionParam {
    /// `&Session`
    Ref,
    /// `Session` (a clone is passed)
    Owned,
}

pub(crate) enum Payload {
    None,
    Raw,
    Typed(Type),
}

/// What the handler returns.
pub(crate) enum Output {
    /// `()` or nothing: notify style.
    Unit,
    /// `nano_core::Deferred`: answers later.
    Deferred,
    /// `bytes::Bytes`: raw response.
    Bytes,
    /// Any other type: serialized response.
    Value(Type),
    /// `Result<.., E>`.
    Result { ok: ResultOk, err: Option<Type> },
}

pub(crate) enum ResultOk {
    Unit,
    Bytes,
    Value(Type),
}

impl Handler {
    pub(crate) fn is_request(&self) -> bool {
        !matches!(
            self.output,
            Output::Unit
                | Output::Result {
                    ok: ResultOk::Unit,
                    ..
                }
        )
    }
}

const COMPONENT_KEYS: &str = "`name`, `rename_all`, `crate`, `lifecycle`";
const HANDLER_KEYS: &str = "`name`";

/// Builds the model; returns it (when the attribute itself could be read) and every error.
pub(crate) fn parse(
    args: TokenStream,
    block: &mut ItemImpl,
) -> (Option<Component>, Vec<syn::Error>) {
    let mut errors = Vec::new();
    let options = parse_component_args(args, &mut errors);

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

    let type_name = match &*block.self_ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string()),
        _ => None,
    };
    let Some(type_name) = type_name else {
        errors.push(syn::Error::new_spanned(
            &block.self_ty,
            "`#[component]` needs a named type, like `impl Room`",
        ));
        return (None, errors);
    };
    let name = options.name.clone().unwrap_or_else(|| type_name.clone());

    let mut handlers = Vec::new();
    for item in &mut block.items {
        let attrs = match item {
            ImplItem::Fn(method) => {
                let Some(attr) = take_handler_attr(&mut method.attrs, &mut errors) else {
                    continue;
                };
                if let Some(handler) =
                    parse_handler(method, &attr, &name, options.rename_all, &mut errors)
                {
                    handlers.push(handler);
                }
                continue;
            }
            ImplItem::Const(item) => &mut item.attrs,
            ImplItem::Type(item) => &mut item.attrs,
            ImplItem::Macro(item) => &mut item.attrs,
            _ => continue,
        };
        if let Some(attr) = take_handler_attr(attrs, &mut errors) {
            errors.push(syn::Error::new_spanned(
                attr,
                "`#[handler]` goes on methods only",
            ));
        }
    }

    let model = Component {
        self_ty: (*block.self_ty).clone(),
        type_name,
        name,
        krate: options
            .krate
            .unwrap_or_else(|| syn::parse_quote!(::nano_core)),
        lifecycle: options.lifecycle,
        handlers,
    };
    (Some(model), errors)
}

#[derive(Default)]
struct ComponentOptions {
    name: Option<String>,
    rename_all: Option<RenameRule>,
    krate: Option<Path>,
    lifecycle: bool,
}

fn parse_component_args(args: TokenStream, errors: &mut Vec<syn::Error>) -> ComponentOptions {
    let mut options = ComponentOptions::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(error);
            return options;
        }
    };
    for meta in metas {
        let key = meta
            .path()
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match (key.as_str(), &meta) {
            ("lifecycle", Meta::Path(_)) => options.lifecycle = true,
            ("name" | "rename_all" | "crate", Meta::NameValue(_)) => {
                let Some(value) = string_value(&meta, errors) else {
                    continue;
                };
                match key.as_str() {
                    "name" => {
                        if valid_name(&value) {
                            options.name = Some(value.value());
                        } else {
                            errors.push(syn::Error::new_spanned(
                                &value,
                                "a component name must be non-empty and contain no `.`",
                            ));
                        }
                    }
                    "rename_all" => match RenameRule::from_name(&value.value()) {
                        Some(rule) => options.rename_all = Some(rule),
                        None => errors.push(syn::Error::new_spanned(
                            &value,
                            format!(
                                "unknown `rename_all` rule; expected one of {}",
                                RenameRule::VALID
                            ),
                        )),
                    },
                    _ => match value.parse::<Path>() {
                        Ok(path) => options.krate = Some(path),
                        Err(_) => errors.push(syn::Error::new_spanned(
                            &value,
                            "`crate` must be a path, like \"::my_crate::nano_core\"",
                        )),
                    },
                }
            }
            ("lifecycle", _) => errors.push(syn::Error::new_spanned(
                &meta,
                "`lifecycle` takes no value: write `#[component(lifecycle)]`",
            )),
            ("name" | "rename_all" | "crate", _) => {
                errors.push(syn::Error::new_spanned(
                    &meta,
                    format!("expected `{key} = \"...\"`"),
                ));
            }
            _ => errors.push(syn::Error::new_spanned(
                meta.path(),
                format!("unknown `#[component]` option; expected one of {COMPONENT_KEYS}"),
            )),
        }
    }
    options
}

fn string_value(meta: &Meta, errors: &mut Vec<syn::Error>) -> Option<LitStr> {
    if let Meta::NameValue(pair) = meta {
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) = &pair.value
        {
            return Some(text.clone());
        }
        // `macro_rules!` fragments (`name = $route`) arrive wrapped in invisible groups.
        let tokens = flatten_groups(quote::ToTokens::to_token_stream(&pair.value));
        if let Ok(text) = syn::parse2::<LitStr>(tokens) {
            return Some(text);
        }
    }
    errors.push(syn::Error::new_spanned(meta, "expected a string literal"));
    None
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

fn valid_name(value: &LitStr) -> bool {
    let text = value.value();
    !text.is_empty() && !text.contains('.')
}

fn is_handler_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "handler")
}

/// Removes the `#[handler]` attributes from `attrs`, returning the first (a second one is an
/// error).
fn take_handler_attr(
    attrs: &mut Vec<Attribute>,
    errors: &mut Vec<syn::Error>,
) -> Option<Attribute> {
    let mut found: Option<Attribute> = None;
    attrs.retain(|attr| {
        if !is_handler_attr(attr) {
            return true;
        }
        if found.is_some() {
            errors.push(syn::Error::new_spanned(
                attr,
                "duplicate `#[handler]` attribute",
            ));
        } else {
            found = Some(attr.clone());
        }
        false
    });
    found
}

fn parse_handler_name(attr: &Attribute, errors: &mut Vec<syn::Error>) -> Option<LitStr> {
    let Meta::List(list) = &attr.meta else {
        if let Meta::NameValue(_) = &attr.meta {
            errors.push(syn::Error::new_spanned(
                attr,
                "expected `#[handler]` or `#[handler(name = \"...\")]`",
            ));
        }
        return None;
    };
    let metas = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let mut name = None;
    for meta in metas {
        if meta.path().is_ident("name") && matches!(meta, Meta::NameValue(_)) {
            if let Some(value) = string_value(&meta, errors) {
                if valid_name(&value) {
                    name = Some(value);
                } else {
                    errors.push(syn::Error::new_spanned(
                        &value,
                        "a handler name must be non-empty and contain no `.`",
                    ));
                }
            }
        } else {
            errors.push(syn::Error::new_spanned(
                meta.path(),
                format!("unknown `#[handler]` option; expected {HANDLER_KEYS}"),
            ));
        }
    }
    name
}

fn parse_handler(
    method: &ImplItemFn,
    attr: &Attribute,
    component: &str,
    rename_all: Option<RenameRule>,
    errors: &mut Vec<syn::Error>,
) -> Option<Handler> {
    let before = errors.len();
    let signature = &method.sig;
    let explicit = parse_handler_name(attr, errors);
    let (method_name, route_span) = match &explicit {
        Some(name) => (name.value(), name.span()),
        None => {
            let ident = signature.ident.to_string();
            let ident = ident.strip_prefix("r#").unwrap_or(&ident).to_owned();
            (
                rename_all.map_or(ident.clone(), |rule| rule.apply(&ident)),
                signature.ident.span(),
            )
        }
    };

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
    for (what, present) in [
        ("`const fn`", signature.constness.is_some()),
        ("`unsafe fn`", signature.unsafety.is_some()),
        ("`extern fn`", signature.abi.is_some()),
        ("variadic", signature.variadic.is_some()),
    ] {
        if present {
            errors.push(syn::Error::new_spanned(
                signature,
                format!("a handler cannot be a {what}"),
            ));
        }
    }

    let receiver = match signature.inputs.first() {
        Some(FnArg::Receiver(receiver)) => {
            if receiver.reference.is_none() || receiver.colon_token.is_some() {
                errors.push(syn::Error::new_spanned(
                    receiver,
                    "a handler takes `&self` or `&mut self`, not `self` by value",
                ));
                Receiver::Ref
            } else if receiver.mutability.is_some() {
                Receiver::Mut
            } else {
                Receiver::Ref
            }
        }
        _ => {
            errors.push(syn::Error::new_spanned(
                &signature.ident,
                "a handler is a method: its first parameter must be `&self` or `&mut self`",
            ));
            Receiver::Ref
        }
    };

    let params: Vec<&syn::PatType> = signature
        .inputs
        .iter()
        .skip(usize::from(matches!(
            signature.inputs.first(),
            Some(FnArg::Receiver(_))
        )))
        .filter_map(|arg| match arg {
            FnArg::Typed(param) => Some(param),
            FnArg::Receiver(_) => None,
        })
        .collect();

    let session = match params.first() {
        Some(param) => match session_kind(&param.ty) {
            Some(kind) => kind,
            None => {
                errors.push(syn::Error::new_spanned(
                    &param.ty,
                    "the first parameter after the receiver must be the session (`&Session` or `Session`)",
                ));
                SessionParam::Ref
            }
        },
        None => {
            errors.push(syn::Error::new(
                signature.paren_token.span.join(),
                "a handler needs a session parameter: `(&self, session: &Session)`, optionally followed by one payload parameter",
            ));
            SessionParam::Ref
        }
    };

    let payload = match params.get(1) {
        None => Payload::None,
        Some(param) if session_kind(&param.ty).is_some() => {
            errors.push(syn::Error::new_spanned(
                &param.ty,
                "the session parameter appears twice",
            ));
            Payload::None
        }
        Some(param) if is_named(&param.ty, "Bytes") => Payload::Raw,
        Some(param) => Payload::Typed((*param.ty).clone()),
    };
    for extra in params.iter().skip(2) {
        errors.push(syn::Error::new_spanned(
            extra,
            "a handler takes at most one payload parameter; put the fields in one struct",
        ));
    }

    let output = match &signature.output {
        ReturnType::Default => Output::Unit,
        ReturnType::Type(_, ty) => parse_output(ty),
    };

    if errors.len() > before {
        return None;
    }
    Some(Handler {
        method: signature.ident.clone(),
        route: format!("{component}.{method_name}"),
        route_span,
        is_async: signature.asyncness.is_some(),
        receiver,
        session,
        payload,
        output,
    })
}

/// The last path segment's name, for `&T` and `T`.
fn last_ident(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Paren(inner) => last_ident(&inner.elem),
        Type::Group(inner) => last_ident(&inner.elem),
        _ => None,
    }
}

fn is_named(ty: &Type, name: &str) -> bool {
    last_ident(ty).is_some_and(|segment| segment.ident == name && segment.arguments.is_none())
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

fn session_kind(ty: &Type) -> Option<SessionParam> {
    match ty {
        Type::Reference(reference)
            if reference.mutability.is_none() && is_named(&reference.elem, "Session") =>
        {
            Some(SessionParam::Ref)
        }
        _ if is_named(ty, "Session") => Some(SessionParam::Owned),
        _ => None,
    }
}

fn parse_output(ty: &Type) -> Output {
    if is_unit(ty) {
        return Output::Unit;
    }
    if is_named(ty, "Deferred") {
        return Output::Deferred;
    }
    if is_named(ty, "Bytes") {
        return Output::Bytes;
    }
    if let Some(segment) = last_ident(ty)
        && segment.ident == "Result"
        && let PathArguments::AngleBracketed(args) = &segment.arguments
    {
        let mut types = args.args.iter().filter_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        });
        if let Some(ok) = types.next() {
            let err = types.next().cloned();
            let ok = if is_unit(ok) {
                ResultOk::Unit
            } else if is_named(ok, "Bytes") {
                ResultOk::Bytes
            } else {
                ResultOk::Value(ok.clone())
            };
            return Output::Result { ok, err };
        }
    }
    Output::Value(ty.clone())
}
