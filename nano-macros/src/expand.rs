//! Writes the code for a validated component. Never fails.
//!
//! Generated code names only paths under `<crate>::__private` and wraps everything in
//! `const _: () = { ... };`, so it adds no names to the user's module.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ItemImpl;
use syn::spanned::Spanned;

use crate::ast::{Component, Handler, Output, Payload, Receiver, ResultOk, SessionParam};

pub(crate) fn expand(component: &Component, block: &ItemImpl) -> TokenStream {
    let krate = &component.krate;
    let private = quote!(#krate::__private);
    let self_ty = &component.self_ty;
    let is_actor = component
        .handlers
        .iter()
        .any(|handler| handler.receiver == Receiver::Mut);

    let meta = meta(component, &private, is_actor);
    let arms: Vec<TokenStream> = component
        .handlers
        .iter()
        .enumerate()
        .map(|(index, handler)| arm(index, handler, &private, is_actor))
        .collect();

    let dispatch = if is_actor {
        quote! {
            impl #private::ActorComponent for #self_ty {
                fn dispatch(
                    &mut self,
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
    };
    let service = if is_actor {
        quote!(#private::Service::actor(self))
    } else {
        quote!(#private::Service::shared(self))
    };
    let lifecycle = if component.lifecycle {
        quote!()
    } else {
        quote!(impl #private::Lifecycle for #self_ty {})
    };

    quote! {
        #block

        #[doc(hidden)]
        #[allow(non_upper_case_globals, clippy::all)]
        const _: () = {
            impl #private::Component for #self_ty {
                const META: #private::ComponentMeta = #meta;

                fn __into_service(self) -> #private::Service {
                    #service
                }
            }

            #dispatch

            #lifecycle
        };
    }
}

fn meta(component: &Component, private: &TokenStream, is_actor: bool) -> TokenStream {
    let name = &component.name;
    let type_name = &component.type_name;
    let execution = if is_actor {
        quote!(Actor)
    } else {
        quote!(Shared)
    };
    let routes = component.handlers.iter().map(|handler| {
        let route = &handler.route;
        let method = handler.method.to_string();
        let kind = if handler.is_request() {
            quote!(Request)
        } else {
            quote!(Notify)
        };
        let payload = match handler.payload {
            Payload::None => quote!(None),
            Payload::Raw => quote!(Raw),
            Payload::Typed(_) => quote!(Typed),
        };
        quote! {
            #private::RouteMeta {
                route: #route,
                method: #method,
                kind: #private::HandlerKind::#kind,
                payload: #private::PayloadKind::#payload,
            }
        }
    });
    quote! {
        #private::ComponentMeta {
            name: #name,
            type_name: #type_name,
            execution: #private::Execution::#execution,
            routes: &[#(#routes),*],
        }
    }
}

/// One `match` arm of the dispatch function.
fn arm(index: usize, handler: &Handler, private: &TokenStream, is_actor: bool) -> TokenStream {
    let method = &handler.method;
    let call = format_ident!("__nano_call");

    let decode = match &handler.payload {
        Payload::Typed(ty) => {
            let decode_call = quote_spanned!(ty.span()=> #private::decode::<#ty>(&#call));
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
        Payload::Raw | Payload::None => quote!(),
    };
    let session = match handler.session {
        SessionParam::Ref => quote!(#call.session()),
        SessionParam::Owned => quote!(#private::Session::clone(#call.session())),
    };
    let payload = match &handler.payload {
        Payload::Typed(_) => quote!(, __nano_payload),
        Payload::Raw => quote!(, #private::Bytes::clone(#call.payload())),
        Payload::None => quote!(),
    };
    let receiver = if is_actor {
        quote!(self)
    } else {
        quote!(&**__nano_this)
    };
    let await_ = if handler.is_async {
        quote!(.await)
    } else {
        quote!()
    };
    let invoke = quote!(Self::#method(#receiver, #session #payload) #await_);
    let reply = reply(&call, &invoke, &handler.output, private);

    let body = match (handler.is_async, is_actor) {
        (false, false) => quote!(#private::Dispatch::Ready(#reply)),
        (false, true) => quote!(#private::ActorDispatch::Ready(#reply)),
        (true, false) => quote! {
            let __nano_owned = #private::Arc::clone(__nano_this);
            #private::pending(async move {
                let __nano_this = &__nano_owned;
                #reply
            })
        },
        (true, true) => quote!(#private::actor_pending(async move { #reply })),
    };
    quote! {
        #index => {
            #decode
            #body
        }
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
