//! The model of a component, built from the syntax of its `impl` block: what each handler's
//! parameters and return type are. Whether they make a valid handler is `validate`'s job.
//!
//! Building the model strips the `#[handler]` attributes from the block, so that the block can
//! be emitted as is; the only errors here are attributes that cannot be read or placed.
//!
//! (Compile-time data: the size of the enums below does not matter.)

#![allow(clippy::large_enum_variant)]

use proc_macro2::{Span, TokenStream};
use syn::{
    Attribute, FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, Path, PathArguments,
    ReturnType, Signature, Type,
};

use crate::attr::{self, ComponentOptions};

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
    pub(crate) handlers: Vec<Handler>,
    /// The declared push routes.
    pub(crate) pushes: Vec<attr::PushDecl>,
    /// `#[component(room)]`: a room kind (always an actor; instances made at run time).
    pub(crate) room: bool,
}

/// One `#[handler]` method.
pub(crate) struct Handler {
    /// The method's signature, as written.
    pub(crate) signature: Signature,
    /// The full route (`"room.join"`).
    pub(crate) route: String,
    /// Where to point errors about the route (the method name, or the `name = "..."` literal).
    pub(crate) route_span: Span,
    /// `&mut self` (which makes the component an actor).
    pub(crate) mutable: bool,
    /// The parameters after the receiver, in order.
    pub(crate) params: Vec<Param>,
    pub(crate) output: Output,
}

/// A parameter after the receiver.
pub(crate) struct Param {
    pub(crate) arg: syn::PatType,
    pub(crate) kind: ParamKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamKind {
    /// `&Session` (borrowed) or `Session` (a clone is passed).
    Session { borrowed: bool },
    /// `&Context<Self>` (borrowed), or a `Context` taken another way (an error).
    Context { borrowed: bool },
    /// The payload: `bytes::Bytes` (raw, as received), or any other type (decoded).
    Payload { raw: bool },
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
    pub(crate) fn method(&self) -> &syn::Ident {
        &self.signature.ident
    }

    pub(crate) fn is_async(&self) -> bool {
        self.signature.asyncness.is_some()
    }

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

    /// The payload parameter, if any (raw or decoded).
    pub(crate) fn payload(&self) -> Option<&Param> {
        self.params
            .iter()
            .find(|param| matches!(param.kind, ParamKind::Payload { .. }))
    }

    pub(crate) fn takes_context(&self) -> bool {
        self.params
            .iter()
            .any(|param| matches!(param.kind, ParamKind::Context { .. }))
    }
}

/// Builds the model (when the type has a name) and returns it with every error found.
pub(crate) fn parse(
    args: TokenStream,
    block: &mut ItemImpl,
) -> (Option<Component>, Vec<syn::Error>) {
    let mut errors = Vec::new();
    let mut options = attr::component_options(args, &mut errors);
    let Some(type_name) = last_segment(&block.self_ty).map(|segment| segment.ident.to_string())
    else {
        errors.push(syn::Error::new_spanned(
            &block.self_ty,
            "`#[component]` needs a named type, like `impl Room`",
        ));
        return (None, errors);
    };
    let name = options.name.clone().unwrap_or_else(|| type_name.clone());
    let handlers = handlers(block, &name, &options, &mut errors);
    let pushes = std::mem::take(&mut options.pushes);
    let model = Component {
        self_ty: (*block.self_ty).clone(),
        type_name,
        name,
        krate: options
            .krate
            .unwrap_or_else(|| syn::parse_quote!(::nano_core)),
        handlers,
        pushes,
        room: options.room,
    };
    (Some(model), errors)
}

/// The handlers of the block, in order; a `#[handler]` on anything but a method is an error.
fn handlers(
    block: &mut ItemImpl,
    component: &str,
    options: &ComponentOptions,
    errors: &mut Vec<syn::Error>,
) -> Vec<Handler> {
    let mut handlers = Vec::new();
    for item in &mut block.items {
        let attrs = match item {
            ImplItem::Fn(method) => {
                if let Some(attr) = take_handler_attr(&mut method.attrs, errors) {
                    handlers.push(handler(method, &attr, component, options, errors));
                }
                continue;
            }
            ImplItem::Const(item) => &mut item.attrs,
            ImplItem::Type(item) => &mut item.attrs,
            ImplItem::Macro(item) => &mut item.attrs,
            _ => continue,
        };
        if let Some(attr) = take_handler_attr(attrs, errors) {
            errors.push(syn::Error::new_spanned(
                attr,
                "`#[handler]` goes on methods only",
            ));
        }
    }
    handlers
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

fn handler(
    method: &ImplItemFn,
    attr: &Attribute,
    component: &str,
    options: &ComponentOptions,
    errors: &mut Vec<syn::Error>,
) -> Handler {
    let signature = &method.sig;
    let explicit = attr::handler_options(attr, errors).name;
    let (method_name, route_span) = match &explicit {
        Some(name) => (name.value(), name.span()),
        None => {
            let ident = signature.ident.to_string();
            let ident = ident.strip_prefix("r#").unwrap_or(&ident).to_owned();
            let renamed = options
                .rename_all
                .map_or(ident.clone(), |rule| rule.apply(&ident));
            (renamed, signature.ident.span())
        }
    };
    let mutable = matches!(
        signature.inputs.first(),
        Some(FnArg::Receiver(receiver)) if receiver.reference.is_some() && receiver.mutability.is_some()
    );
    let params = signature
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(arg) => Some(Param {
                arg: arg.clone(),
                kind: param_kind(&arg.ty),
            }),
            FnArg::Receiver(_) => None,
        })
        .collect();
    Handler {
        signature: signature.clone(),
        route: format!("{component}.{method_name}"),
        route_span,
        mutable,
        params,
        output: match &signature.output {
            ReturnType::Default => Output::Unit,
            ReturnType::Type(_, ty) => output(ty),
        },
    }
}

/// What a parameter is, by its type's name: `Session`, `Context<..>`, `Bytes`, or a payload.
fn param_kind(ty: &Type) -> ParamKind {
    let (reference, named) = match ty {
        Type::Reference(reference) => (Some(reference.mutability.is_some()), &*reference.elem),
        _ => (None, ty),
    };
    let borrowed = reference == Some(false);
    if last_segment(named).is_some_and(|segment| segment.ident == "Context") {
        return ParamKind::Context { borrowed };
    }
    // `&mut Session` is no session: it is reported as a misplaced parameter.
    if reference != Some(true) && is_named(named, "Session") {
        return ParamKind::Session { borrowed };
    }
    ParamKind::Payload {
        raw: is_named(ty, "Bytes"),
    }
}

/// The last path segment of `T` (through parentheses and invisible groups).
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Paren(inner) => last_segment(&inner.elem),
        Type::Group(inner) => last_segment(&inner.elem),
        _ => None,
    }
}

fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|segment| segment.ident == name && segment.arguments.is_none())
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

fn output(ty: &Type) -> Output {
    if is_unit(ty) {
        return Output::Unit;
    }
    if is_named(ty, "Deferred") {
        return Output::Deferred;
    }
    if is_named(ty, "Bytes") {
        return Output::Bytes;
    }
    if let Some(segment) = last_segment(ty)
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
