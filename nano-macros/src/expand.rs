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
    let checks = checks(component, &private);
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
            #checks

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

/// Compile-time checks of payload, response and error types, each spanned on the user's type
/// so rustc reports a missing `Deserialize`/`Serialize` right there.
fn checks(component: &Component, private: &TokenStream) -> TokenStream {
    let self_ty = &component.self_ty;
    let mut checks = Vec::new();
    for handler in &component.handlers {
        if let Payload::Typed(ty) = &handler.payload {
            checks.push(quote_spanned!(ty.span()=> #private::assert_payload::<#ty>();));
        }
        match &handler.output {
            Output::Value(ty)
            | Output::Result {
                ok: ResultOk::Value(ty),
                ..
            } => {
                checks.push(quote_spanned!(ty.span()=> #private::assert_response::<#ty>();));
            }
            _ => {}
        }
        if let Output::Result { err: Some(err), .. } = &handler.output {
            checks.push(quote_spanned!(err.span()=> #private::assert_error::<#err>();));
        }
    }
    if checks.is_empty() {
        return quote!();
    }
    quote! {
        impl #self_ty {
            #[doc(hidden)]
            #[allow(dead_code)]
            const __NANO_TYPE_CHECKS: () = {
                #(#checks)*
            };
        }
    }
}

/// One `match` arm of the dispatch function.
fn arm(index: usize, handler: &Handler, private: &TokenStream, is_actor: bool) -> TokenStream {
    let method = &handler.method;
    let call = format_ident!("__nano_call");

    let decode = match &handler.payload {
        Payload::Typed(ty) => {
            let ready = if is_actor {
                quote!(ActorDispatch)
            } else {
                quote!(Dispatch)
            };
            quote! {
                let __nano_payload: #ty = match #call.decode::<#ty>() {
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
    let reply = reply(&call, &invoke, &handler.output);

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

fn reply(call: &syn::Ident, invoke: &TokenStream, output: &Output) -> TokenStream {
    match output {
        Output::Unit => quote!({
            let () = #invoke;
            #call.reply_unit()
        }),
        Output::Deferred => quote!(#call.reply_deferred(#invoke)),
        Output::Bytes => quote!(#call.reply_bytes(#invoke)),
        Output::Value(_) => quote!(#call.reply_value(#invoke)),
        Output::Result {
            ok: ResultOk::Unit, ..
        } => quote!(#call.reply_unit_result(#invoke)),
        Output::Result {
            ok: ResultOk::Bytes,
            ..
        } => quote!(#call.reply_bytes_result(#invoke)),
        Output::Result {
            ok: ResultOk::Value(_),
            ..
        } => quote!(#call.reply_result(#invoke)),
    }
}
