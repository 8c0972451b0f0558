//! `/metrics` label cardinality: whatever methods and paths clients send, the request
//! families keep a bounded set of series (standard methods or `other`; route templates or
//! `unmatched`).

use caseyos_tests::spawn_app;
use reqwest::Method;

#[tokio::test]
async fn custom_methods_and_unknown_paths_share_one_other_and_one_unmatched_series() {
    let app = spawn_app().await;
    for n in 0..5 {
        for path in [
            "/health",
            "/api/queue",
            "/api/nothing-here",
            "/no/such/page",
        ] {
            let method = Method::from_bytes(format!("BAR{n}").as_bytes()).unwrap();
            app.request(method, path, Some(&app.admin))
                .send()
                .await
                .expect("send");
        }
        let method = Method::from_bytes(b"FOO").unwrap();
        app.request(method, &format!("/nowhere/{n}"), Some(&app.admin))
            .send()
            .await
            .expect("send");
        app.get(&format!("/api/unknown/{n}"), &app.admin)
            .send()
            .await
            .expect("send");
    }
    let text = app.metrics_text().await;
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("caseyos_http_requests_total{"))
        .collect();
    for name in ["FOO", "BAR0", "BAR1", "BAR4"] {
        assert!(
            !text.contains(&format!("method=\"{name}\"")),
            "`{name}` became a label:\n{}",
            series.join("\n")
        );
    }
    for raw in [
        "/nowhere/",
        "/api/unknown/",
        "/no/such/page",
        "/api/nothing-here",
    ] {
        assert!(
            !text.contains(raw),
            "the raw path `{raw}` became a label:\n{}",
            series.join("\n")
        );
    }
    let unmatched: Vec<&&str> = series
        .iter()
        .filter(|l| l.contains("route=\"unmatched\""))
        .collect();
    // Every unknown path, whatever its method, is one route; its methods are GET and other.
    assert!(
        unmatched
            .iter()
            .all(|l| l.contains("method=\"GET\"") || l.contains("method=\"other\"")),
        "{unmatched:#?}"
    );
    let other_unmatched: Vec<&&&str> = unmatched
        .iter()
        .filter(|l| l.contains("method=\"other\""))
        .collect();
    assert_eq!(other_unmatched.len(), 1, "{}", series.join("\n"));
    assert!(
        other_unmatched[0].ends_with(" 15"),
        "five FOO and ten BARn requests to unknown paths: {}",
        series.join("\n")
    );
    let get_unmatched: Vec<&&&str> = unmatched
        .iter()
        .filter(|l| l.contains("method=\"GET\""))
        .collect();
    assert_eq!(get_unmatched.len(), 1, "{}", series.join("\n"));
    // A custom method on a real route counts under that route as `other`.
    for route in ["/health", "/api/queue"] {
        let on_route: Vec<&&str> = series
            .iter()
            .filter(|l| l.contains(&format!("route=\"{route}\"")) && l.contains("method=\"other\""))
            .collect();
        assert_eq!(on_route.len(), 1, "{route}: {}", series.join("\n"));
        assert!(on_route[0].ends_with(" 5"), "{}", on_route[0]);
    }
}

#[tokio::test]
async fn the_projection_lag_of_the_events_applied_is_a_summary_with_its_count() {
    let app = spawn_app().await;
    for n in 0..5 {
        app.propose_simple(&format!("lag {n}")).await;
    }
    let sample = |text: &str, series: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))?
            .parse()
            .ok()
    };
    let count_series = "caseyos_projection_apply_lag_milliseconds_count{projection=\"queue\"}";
    // The samples are recorded just after each batch commits: wait for all five.
    let mut text = String::new();
    for _ in 0..500 {
        text = app.metrics_text().await;
        if sample(&text, count_series).is_some_and(|count| count >= 5.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let value = |series: &str| -> f64 {
        sample(&text, series).unwrap_or_else(|| panic!("no {series} in:\n{text}"))
    };
    let count = value(count_series);
    assert!(count >= 5.0, "five proposals applied, {count} samples");
    let q = |q: &str| {
        value(&format!(
            "caseyos_projection_apply_lag_milliseconds{{projection=\"queue\",quantile=\"{q}\"}}"
        ))
    };
    let (p50, p99, max) = (q("0.5"), q("0.99"), q("1"));
    assert!(
        0.0 <= p50 && p50 <= p99 && p99 <= max,
        "quantiles in order: {p50} {p99} {max}"
    );
    assert!(text.contains("# TYPE caseyos_projection_apply_lag_milliseconds summary"));
}
