//! Under a list read a page at a time: how many moves are not shown yet, and a button that
//! loads them.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LoadMoreProps {
    /// Moves beyond the ones shown.
    pub more: i64,
    /// The next page is being read: the button waits.
    #[prop_or_default]
    pub busy: bool,
    pub on_load: Callback<()>,
}

/// "23 more" and a "Load more" button; nothing when every move is shown.
pub fn load_more(props: &LoadMoreProps) -> Html {
    if props.more <= 0 {
        return html! {};
    }
    let onclick = props.on_load.reform(|_: MouseEvent| ());
    let label = if props.more == 1 {
        "1 more move".to_string()
    } else {
        format!("{} more moves", props.more)
    };
    html! {
        <div class="load-more">
            <p class="muted" aria-live="polite">{ label }</p>
            <button type="button" class="button" disabled={props.busy} aria-busy={props.busy.then_some("true")} {onclick}>
                { if props.busy { "Loading…" } else { "Load more" } }
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::mount;
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The view as a component, to mount it.
    #[component]
    fn Host(props: &LoadMoreProps) -> Html {
        load_more(props)
    }

    #[wasm_bindgen_test]
    async fn it_says_how_many_more_and_the_button_asks_for_them() {
        let clicks = Rc::new(Cell::new(0));
        let on_load = {
            let clicks = clicks.clone();
            Callback::from(move |_| clicks.set(clicks.get() + 1))
        };
        let root = mount::<Host>(LoadMoreProps {
            more: 23,
            busy: false,
            on_load,
        })
        .await;
        let text = root.text_content().unwrap_or_default();
        assert!(text.contains("23 more moves"), "{text}");
        let button = root
            .query_selector("button")
            .unwrap()
            .expect("a Load more button")
            .dyn_into::<web_sys::HtmlElement>()
            .unwrap();
        assert_eq!(button.text_content().unwrap(), "Load more");
        button.click();
        assert_eq!(clicks.get(), 1);
    }

    #[wasm_bindgen_test]
    async fn it_waits_while_loading_and_is_gone_when_all_are_shown() {
        let busy = mount::<Host>(LoadMoreProps {
            more: 1,
            busy: true,
            on_load: Callback::noop(),
        })
        .await;
        assert!(busy
            .text_content()
            .unwrap_or_default()
            .contains("1 more move"));
        assert!(busy.query_selector("button[disabled]").unwrap().is_some());
        let none = mount::<Host>(LoadMoreProps {
            more: 0,
            busy: false,
            on_load: Callback::noop(),
        })
        .await;
        assert_eq!(none.text_content().unwrap_or_default(), "");
    }
}
