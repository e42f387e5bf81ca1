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
//! The crate is split by phase: `ast` builds a model from the syntax, `validate` checks it,
//! and `expand` (which never fails) writes the code. Every mistake is a `syn::Error` on the
//! offending tokens; all of them are reported at once, and the user's `impl` block is still
//! emitted so the rest of the crate (and the IDE) keeps working.
//!
//! See the `nano-core` documentation of `component` for the accepted forms.

mod ast;
mod expand;
mod naming;
mod validate;

use proc_macro::TokenStream;

/// Turns an inherent `impl` block into a nano-rs component. See `nano_core::component`.
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
    if let Some(model) = &model {
        validate::check(model, &mut errors);
    }
    match (
        model,
        errors.into_iter().reduce(|mut all, next| {
            all.combine(next);
            all
        }),
    ) {
        (Some(model), None) => expand::expand(&model, &block).into(),
        (_, Some(error)) => with_errors(quote::quote!(#block), error),
        (None, None) => quote::quote!(#block).into(),
    }
}

/// Marks a method of a `#[component]` `impl` block as a route handler.
///
/// Accepts `#[handler]` or `#[handler(name = "route_name")]`. Outside a `#[component]` block it
/// is a compile error.
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
