//! The OpenAPI document is generated from the routes; these tests check it both ways:
//! every documented operation is routed, and every endpoint of the contract is documented.

use crate::helpers::spawn_app;
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;

async fn document() -> (crate::helpers::TestApp, Value) {
    let app = spawn_app().await;
    let doc = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    (app, doc.body)
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let (app, doc) = document().await;
    let ops = operations(&doc);
    assert!(ops.len() >= 35, "only {} operations documented", ops.len());
    for (method, path) in ops {
        let concrete = path
            .split('/')
            .map(|part| if part.starts_with('{') { "01a23345-0000-7000-8000-000000000000" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        let reply = app.call(Method::from_bytes(method.as_bytes()).unwrap(), &concrete, None, None).await;
        let unrouted =
            reply.status == 405 || (reply.status == 404 && reply.body["error"]["message"] == "no such route");
        assert!(!unrouted, "{method} {path} is documented but not routed ({})", reply.status);
    }
}

/// The endpoint lines of the contract, "- `METHOD /api/...`" (with `PUT|DELETE`), split into
/// the first part (v1, all built) and the "Additions (v2)" sections. The contract is
/// `docs/api-contract.md`, a copy of the shared `api-contract.md` kept in the repository so
/// that a clone alone runs this test.
type Operations = BTreeSet<(String, String)>;

fn contract_operations() -> (Operations, Operations) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api-contract.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut v1, mut v2) = (BTreeSet::new(), BTreeSet::new());
    let mut in_additions = false;
    for line in text.lines() {
        if line.starts_with("# Additions") {
            in_additions = true;
        }
        let Some(rest) = line.strip_prefix("- `") else {
            continue;
        };
        let Some((spec, _)) = rest.split_once('`') else {
            continue;
        };
        let Some((methods, route)) = spec.split_once(' ') else {
            continue;
        };
        let route = route.split('?').next().unwrap().to_owned();
        if !route.starts_with("/api") {
            continue;
        }
        for method in methods.split('|') {
            if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method) {
                let set = if in_additions { &mut v2 } else { &mut v1 };
                set.insert((method.to_owned(), route.clone()));
            }
        }
    }
    (v1, v2)
}

/// The v2 endpoints not built yet, by the issue that builds them. Each must be missing from
/// the document: when one is built, this test fails until it leaves this list.
const NOT_BUILT_YET: &[(&str, &[&str])] =
    &[("13 tenants, 14 admin tools", &["/api/platform", "/api/admin/tenant", "/api/admin/dead-letters"])];

fn pending_issue(method: &str, route: &str) -> Option<&'static str> {
    let operation = format!("{method} {route}");
    NOT_BUILT_YET.iter().find_map(|(issue, markers)| {
        markers
            .iter()
            .any(|marker| if marker.contains(' ') { operation == *marker } else { route.contains(marker) })
            .then_some(*issue)
    })
}

#[tokio::test]
async fn every_contract_endpoint_is_documented() {
    let (_app, doc) = document().await;
    let documented = operations(&doc);
    let (v1, v2) = contract_operations();
    assert!(v1.len() >= 30, "parsed only {} contract endpoints", v1.len());
    let missing: Vec<_> = v1.difference(&documented).collect();
    assert!(missing.is_empty(), "contract endpoints missing from the OpenAPI document: {missing:?}");
    for (method, route) in &v2 {
        match (documented.contains(&(method.clone(), route.clone())), pending_issue(method, route)) {
            (true, Some(issue)) => panic!("{method} {route} is built: take it off NOT_BUILT_YET (issue {issue})"),
            (false, None) => panic!("v2 endpoint {method} {route} is neither documented nor planned in NOT_BUILT_YET"),
            _ => {}
        }
    }
    // The WebSocket is described in prose in the contract; it is documented too.
    assert!(documented.contains(&("GET".to_owned(), "/api/ws".to_owned())));
}

#[tokio::test]
async fn operation_ids_are_unique_and_nullable_fields_are_required() {
    let (_app, doc) = document().await;
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            }
        }
    }
    // Fields the server always sends, as null when empty, must be required in the schema.
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("User", "photo_url"),
        ("User", "last_seen_at"),
        ("Message", "status"),
        ("Message", "reply_to"),
        ("Message", "photo"),
    ] {
        let required =
            schemas[schema]["required"].as_array().unwrap_or_else(|| panic!("{schema} has no required list"));
        assert!(required.iter().any(|r| r == field), "{schema}.{field} should be required");
    }
}
