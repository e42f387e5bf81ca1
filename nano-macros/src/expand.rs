//! Writes the code for a validated component. Never fails.
//!
//! Generated code names only paths under `<crate>::__private` and wraps everything in
//! `const _: () = { ... };`, so it adds no names to the user's module.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ItemImpl;
use syn::spanned::Spanned;

use crate::ast::{Component, Handler, Output, Param, ParamKind, ResultOk};

pub(crate) fn expand(component: &Component, block: &ItemImpl) -> TokenStream {
    let krate = &component.krate;
    let private = quote!(#krate::__private);
    let self_ty = &component.self_ty;
    let is_actor = component.room || component.handlers.iter().any(|handler| handler.mutable);
    let meta = meta(component, &private, is_actor);
    let dispatch = dispatch(component, &private, is_actor);
    let push_checks = push_checks(component, &private);
    let service = if component.room {
        quote!({
            let _ = (self, __nano_hooks);
            #private::Service::registered_room::<Self>()
        })
    } else if is_actor {
        quote!(#private::Service::actor(self, __nano_hooks))
    } else {
        quote!(#private::Service::shared(self, __nano_hooks))
    };
    let room_marker = component
        .room
        .then(|| quote!(impl #private::RoomComponent for #self_ty {}));
    quote! {
        #block

        #[doc(hidden)]
        #[allow(non_upper_case_globals, clippy::all)]
        const _: () = {
            impl #private::Component for #self_ty {
                const META: #private::ComponentMeta = #meta;

                fn __into_service(self) -> #private::Service {
                    // The type's own `Lifecycle` hooks if it implements the trait, else no-ops
                    // (see `LifecycleProbe`).
                    use #private::{HasLifecycle as _, NoLifecycle as _};
                    let __nano_hooks = (&&#private::LifecycleProbe::<Self>::new()).hooks();
                    #service
                }
            }

            #dispatch
            #push_checks
            #room_marker
        };
    }
}

/// With errors: a stand-in `impl Component` with no routes, so that registering the type
/// (`App::builder().register(Room)`) adds no second, misleading error to the real ones.
pub(crate) fn fallback(component: &Component) -> TokenStream {
    let krate = &component.krate;
    let private = quote!(#krate::__private);
    let self_ty = &component.self_ty;
    let name = &component.name;
    let type_name = &component.type_name;
    quote! {
        #[doc(hidden)]
        const _: () = {
            impl #private::Component for #self_ty {
                const META: #private::ComponentMeta = #private::ComponentMeta {
                    name: #name,
                    type_name: #type_name,
                    execution: #private::Execution::Shared,
                    routes: &[],
                    pushes: &[],
                };

                fn __into_service(self) -> #private::Service {
                    #private::invalid_component()
                }
            }
        };
    }
}

/// The `SharedComponent` or `ActorComponent` impl: a `match` on the route's index.
fn dispatch(component: &Component, private: &TokenStream, is_actor: bool) -> TokenStream {
    let self_ty = &component.self_ty;
    let arms = component
        .handlers
        .iter()
        .enumerate()
        .map(|(index, handler)| arm(index, handler, private, is_actor));
    if is_actor {
        quote! {
            impl #private::ActorComponent for #self_ty {
                fn dispatch(
                    &mut self,
                    __nano_ctx: &#private::Context<Self>,
                    __nano_index: #private::usize,
                    __nano_call: #private::Call,
                ) -> #private::ActorDispatch<'_> {
                    match __nano_index {
                        #(#arms)*
                        _ => #private::ActorDispatch::Ready(#private::unknown_route(&__nano_call)),
                    }
                }
            }
        }
    } else {
        quote! {
            impl #private::SharedComponent for #self_ty {
                fn dispatch(
                    __nano_this: &#private::Arc<Self>,
                    __nano_ctx: &#private::Context<Self>,
                    __nano_index: #private::usize,
                    __nano_call: #private::Call,
                ) -> #private::Dispatch {
                    match __nano_index {
                        #(#arms)*
                        _ => #private::Dispatch::Ready(#private::unknown_route(&__nano_call)),
                    }
                }
            }
        }
    }
}

fn meta(component: &Component, private: &TokenStream, is_actor: bool) -> TokenStream {
    let name = &component.name;
    let type_name = &component.type_name;
    let execution = if component.room {
        quote!(Room)
    } else if is_actor {
        quote!(Actor)
    } else {
        quote!(Shared)
    };
    let routes = component
        .handlers
        .iter()
        .map(|handler| route_meta(handler, private));
    let pushes = component.pushes.iter().map(|push| {
        let route = &push.route;
        let payload_type = type_meta(&push.ty, private);
        quote!(#private::PushMeta { route: #route, payload_type: #payload_type })
    });
    let room_closed = component.room.then(|| {
        let route = crate::validate::ROOM_CLOSED_ROUTE;
        quote!(#private::PushMeta {
            route: #route,
            payload_type: #private::TypeMeta {
                name: "RoomClosed",
                schema: || {
                    #[allow(unused_imports)]
                    use #private::{HasSchema as _, NoSchema as _};
                    (&&#private::SchemaProbe::<#private::RoomClosed>::new()).schema()
                },
                encoding: || #private::Encoding::Serializer,
            },
        },)
    });
    quote! {
        #private::ComponentMeta {
            name: #name,
            type_name: #type_name,
            execution: #private::Execution::#execution,
            routes: &[#(#routes),*],
            pushes: &[#room_closed #(#pushes),*],
        }
    }
}

fn route_meta(handler: &Handler, private: &TokenStream) -> TokenStream {
    let route = &handler.route;
    let method = handler.method().to_string();
    let kind = if handler.is_request() {
        quote!(Request)
    } else {
        quote!(Notify)
    };
    let bytes = || Some(quote!(#private::TypeMeta::bytes()));
    let (payload, payload_type) = match handler.payload() {
        None => (quote!(None), None),
        Some(Param {
            kind: ParamKind::Payload { raw: true },
            ..
        }) => (quote!(Raw), bytes()),
        Some(param) => (quote!(Typed), Some(type_meta(&param.arg.ty, private))),
    };
    let response_type = match &handler.output {
        Output::Unit | Output::Deferred => None,
        Output::Result {
            ok: ResultOk::Unit, ..
        } => None,
        Output::Bytes
        | Output::Result {
            ok: ResultOk::Bytes,
            ..
        } => bytes(),
        Output::Value(ty)
        | Output::Result {
            ok: ResultOk::Value(ty),
            ..
        } => Some(type_meta(ty, private)),
    };
    let payload_type = optional(payload_type);
    let response_type = optional(response_type);
    quote! {
        #private::RouteMeta {
            route: #route,
            method: #method,
            kind: #private::HandlerKind::#kind,
            payload: #private::PayloadKind::#payload,
            payload_type: #payload_type,
            response_type: #response_type,
        }
    }
}

fn optional(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// A `TypeMeta` for `ty`: its name as written, and a function giving its JSON Schema when it
/// has one (see `SchemaProbe`).
fn type_meta(ty: &syn::Type, private: &TokenStream) -> TokenStream {
    let name = type_name(ty);
    quote! {
        #private::TypeMeta {
            name: #name,
            schema: || {
                #[allow(unused_imports)]
                use #private::{HasSchema as _, NoSchema as _};
                (&&#private::SchemaProbe::<#ty>::new()).schema()
            },
            encoding: || {
                #[allow(unused_imports)]
                use #private::{IsProto as _, NotProto as _};
                (&&#private::EncodingProbe::<#ty>::new()).encoding()
            },
        }
    }
}

/// `ty` as written, with spaces only between two words and after commas (`Vec<String>`,
/// `&'static str`, `HashMap<String, u32>`).
pub(crate) fn type_name(ty: &syn::Type) -> String {
    let text = quote!(#ty).to_string();
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            let between_words = || word(chars[i - 1]) && word(chars[i + 1]);
            c != ' ' || (i > 0 && i + 1 < chars.len() && (chars[i - 1] == ',' || between_words()))
        })
        .map(|(_, &c)| c)
        .collect()
}

/// Checks that every declared push type can be serialized, each spanned on its type.
fn push_checks(component: &Component, private: &TokenStream) -> TokenStream {
    let checks = component.pushes.iter().map(|push| {
        let ty = &push.ty;
        quote_spanned!(ty.span()=> #private::push_body::<#ty>();)
    });
    quote! {
        #[allow(dead_code)]
        fn __nano_push_checks() {
            #(#checks)*
        }
    }
}

/// One `match` arm of the dispatch function.
fn arm(index: usize, handler: &Handler, private: &TokenStream, is_actor: bool) -> TokenStream {
    let method = handler.method();
    let call = format_ident!("__nano_call");
    let decode = decode(handler, private, is_actor);
    let args = handler.params.iter().map(|param| argument(param, private));
    let receiver = if is_actor {
        quote!(self)
    } else {
        quote!(&**__nano_this)
    };
    let await_ = if handler.is_async() {
        quote!(.await)
    } else {
        quote!()
    };
    let invoke = quote!(Self::#method(#receiver, #(#args),*) #await_);
    let reply = reply(&call, &invoke, &handler.output, private);
    let body = body(handler, &reply, private, is_actor);
    quote! {
        #index => {
            #decode
            #body
        }
    }
}

/// Runs the call: at once for a sync handler, in a boxed future for an async one.
fn body(
    handler: &Handler,
    reply: &TokenStream,
    private: &TokenStream,
    is_actor: bool,
) -> TokenStream {
    // An async handler's future outlives the borrowed context: it gets a clone (only when the
    // handler takes one).
    let own_ctx = handler.takes_context().then(|| {
        (
            quote!(let __nano_ctx = #private::Context::clone(__nano_ctx);),
            quote!(let __nano_ctx = &__nano_ctx;),
        )
    });
    let (clone_ctx, borrow_ctx) = own_ctx.unzip();
    match (handler.is_async(), is_actor) {
        (false, false) => quote!(#private::Dispatch::Ready(#reply)),
        (false, true) => quote!(#private::ActorDispatch::Ready(#reply)),
        (true, false) => quote! {
            let __nano_owned = #private::Arc::clone(__nano_this);
            #clone_ctx
            #private::pending(async move {
                let __nano_this = &__nano_owned;
                #borrow_ctx
                #reply
            })
        },
        (true, true) => quote! {
            #clone_ctx
            #private::actor_pending(async move {
                #borrow_ctx
                #reply
            })
        },
    }
}

/// Decodes a typed payload into `__nano_payload`, or returns the 400 reply.
fn decode(handler: &Handler, private: &TokenStream, is_actor: bool) -> TokenStream {
    let Some(Param {
        arg,
        kind: ParamKind::Payload { raw: false },
    }) = handler.payload()
    else {
        return quote!();
    };
    let ty = &arg.ty;
    let decode_call = quote_spanned!(ty.span()=> #private::decode::<#ty>(&__nano_call));
    let ready = if is_actor {
        quote!(ActorDispatch)
    } else {
        quote!(Dispatch)
    };
    quote! {
        let __nano_payload: #ty = match #decode_call {
            #private::Result::Ok(payload) => payload,
            #private::Result::Err(reply) => return #private::#ready::Ready(reply),
        };
    }
}

/// The expression passed for one parameter.
fn argument(param: &Param, private: &TokenStream) -> TokenStream {
    match param.kind {
        ParamKind::Session { borrowed: true } => quote!(__nano_call.session()),
        ParamKind::Session { borrowed: false } => {
            quote!(#private::Session::clone(__nano_call.session()))
        }
        ParamKind::Context { .. } => quote!(__nano_ctx),
        ParamKind::Payload { raw: true } => quote!(#private::Bytes::clone(__nano_call.payload())),
        ParamKind::Payload { raw: false } => quote!(__nano_payload),
    }
}

/// Turns the handler's return value into a `Reply`. Conversions that need a trait bound are
/// spanned on the user's type, so that a missing `Serialize` or error conversion is reported
/// once, there (rustc merges it with the matching check in `checks`).
fn reply(
    call: &syn::Ident,
    invoke: &TokenStream,
    output: &Output,
    private: &TokenStream,
) -> TokenStream {
    let converted = |err: &Option<syn::Type>| match err {
        Some(err) => quote_spanned!(err.span()=> #private::map_error::<_, #err>(#invoke)),
        None => quote!(#private::map_error(#invoke)),
    };
    match output {
        Output::Unit => quote!({
            let () = #invoke;
            #call.reply_unit()
        }),
        Output::Deferred => quote!(#call.reply_deferred(#invoke)),
        Output::Bytes => quote!(#call.reply_bytes(#invoke)),
        Output::Value(ty) => {
            quote_spanned!(ty.span()=> #private::respond_value::<#ty>(&#call, #invoke))
        }
        Output::Result {
            ok: ResultOk::Unit,
            err,
        } => {
            let result = converted(err);
            quote!(#call.reply_unit_result(#result))
        }
        Output::Result {
            ok: ResultOk::Bytes,
            err,
        } => {
            let result = converted(err);
            quote!(#call.reply_bytes_result(#result))
        }
        Output::Result {
            ok: ResultOk::Value(ty),
            err,
        } => {
            let result = converted(err);
            quote_spanned!(ty.span()=> #private::respond_result::<#ty>(&#call, #result))
        }
    }
}
