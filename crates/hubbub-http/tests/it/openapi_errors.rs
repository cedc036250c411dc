//! The router's error paths against the OpenAPI document. Every operation the document lists
//! is driven through the real router with the inputs its own description says it takes,
//! made wrong one at a time: no credential, a cookie from a foreign origin, a path id that
//! is not a UUID, a malformed or wrongly typed body, a query parameter that is not a number.
//! Every status answered must be documented on that operation, and the standard ones must
//! be answered where the document says they apply. The request list comes from the
//! document, so a new route is covered by being documented (and `openapi.rs` checks that
//! every route is).

use crate::helpers::{TestApp, TestUser, spawn_app};
use reqwest::Method;
use serde_json::Value;

/// A well-formed id that names nothing.
const SOME_ID: &str = "01a23345-0000-7000-8000-000000000000";

struct Operation {
    method: String,
    path: String,
    spec: Value,
}

impl Operation {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn authenticated(&self) -> bool {
        self.spec["security"].as_array().is_some_and(|alternatives| {
            !alternatives.is_empty() && alternatives.iter().all(|a| a != &Value::Object(Default::default()))
        })
    }

    fn safe_method(&self) -> bool {
        matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }

    fn body_types(&self) -> Vec<String> {
        self.spec["requestBody"]["content"].as_object().map(|c| c.keys().cloned().collect()).unwrap_or_default()
    }

    fn parameters(&self, location: &str) -> Vec<&Value> {
        self.spec["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == location).collect()
    }

    fn documents(&self, status: u16) -> bool {
        self.spec["responses"].get(status.to_string()).is_some()
    }

    /// The path with every `{param}` replaced by `value`.
    fn url(&self, value: &str, query: &str) -> String {
        let path = self
            .path
            .split('/')
            .map(|part| if part.starts_with('{') { value } else { part })
            .collect::<Vec<_>>()
            .join("/");
        if query.is_empty() { path } else { format!("{path}?{query}") }
    }
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(spec) = item.get(method) {
                out.push(Operation { method: method.to_uppercase(), path: path.clone(), spec: spec.clone() });
            }
        }
    }
    out
}

fn is_integer(schema: &Value) -> bool {
    schema["type"] == "integer" || schema["type"].as_array().is_some_and(|types| types.iter().any(|t| t == "integer"))
}

/// The smallest value `schema` accepts (required properties only), so that a request gets
/// past its body to the checks behind it.
fn sample(doc: &Value, schema: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return sample(doc, &doc["components"]["schemas"][name]);
    }
    let kind = match &schema["type"] {
        Value::Array(types) => types.iter().find(|t| *t != "null").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    match kind.as_str() {
        Some("object") | None if schema.get("properties").is_some() => {
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            let fields = required
                .iter()
                .filter_map(Value::as_str)
                .map(|name| (name.to_owned(), sample(doc, &schema["properties"][name])))
                .collect();
            Value::Object(fields)
        }
        Some("string") if schema["format"] == "uuid" => Value::from(SOME_ID),
        Some("string") => Value::from("x"),
        Some("integer") | Some("number") => Value::from(1),
        Some("boolean") => Value::from(false),
        Some("array") => Value::Array(Vec::new()),
        _ => Value::Null,
    }
}

#[derive(Default)]
struct Request<'a> {
    token: Option<&'a str>,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<(&'static str, Vec<u8>)>,
}

async fn status(app: &TestApp, op: &Operation, url: &str, request: Request<'_>) -> u16 {
    let mut builder = app.http.request(Method::from_bytes(op.method.as_bytes()).unwrap(), app.url(url));
    if let Some(token) = request.token {
        builder = builder.bearer_auth(token);
    }
    for (name, value) in request.headers {
        builder = builder.header(name, value);
    }
    if let Some((content_type, body)) = request.body {
        builder = builder.header("content-type", content_type).body(body);
    }
    builder.send().await.expect("request").status().as_u16()
}

/// Records what went wrong with one answer: not documented, or not the status the document
/// says this input gets (`expected`).
fn check(problems: &mut Vec<String>, op: &Operation, case: &str, answered: u16, expected: Option<u16>) {
    if !op.documents(answered) {
        problems.push(format!("{} answers {answered} to {case}, undocumented", op.name()));
    }
    if let Some(expected) = expected
        && answered != expected
    {
        problems.push(format!("{} answers {answered} to {case}, expected {expected}", op.name()));
    }
}

/// The user's token still works (a case may have been `DELETE /api/session`); if not, a new one.
async fn still_signed_in(app: &TestApp, user: &mut TestUser) {
    if app.get("/api/users/me", user).await.status == 401 {
        *user = app.login(user).await;
    }
}

#[tokio::test]
async fn every_status_the_router_answers_is_documented_on_its_operation() {
    let app = spawn_app().await;
    let doc = app.call(Method::GET, "/api/openapi.json", None, None).await.body;
    let mut alice = app.register("alice").await;
    let operations = operations(&doc);
    assert!(operations.len() >= 35, "only {} operations documented", operations.len());
    let mut problems = Vec::new();

    for op in &operations {
        let url = op.url(SOME_ID, "");

        // No credential: every authenticated operation answers 401.
        let answered = status(&app, op, &url, Request::default()).await;
        check(&mut problems, op, "no credential", answered, op.authenticated().then_some(401));

        // A session cookie and a well-formed body from a foreign Origin: a change is refused
        // before the cookie is even looked up (403). The WebSocket checks the Origin on its
        // GET too, and registration and login check it behind their body, so those are held
        // to the document only.
        let json_body = op.spec["requestBody"]["content"]["application/json"]["schema"].clone();
        let foreign = Request {
            headers: vec![("cookie", "hubbub_session=not-a-session"), ("origin", "http://evil.example")],
            body: (!json_body.is_null())
                .then(|| ("application/json", serde_json::to_vec(&sample(&doc, &json_body)).unwrap())),
            ..Request::default()
        };
        let answered = status(&app, op, &url, foreign).await;
        let expected = (op.authenticated() && !op.safe_method()).then_some(403);
        check(&mut problems, op, "a foreign-origin cookie", answered, expected);

        // Signed in from here on, so that the input checks are reached.
        let token = Some(alice.token.as_str());

        if !op.parameters("path").is_empty() {
            let answered = status(&app, op, &op.url("not-a-uuid", ""), Request { token, ..Request::default() }).await;
            check(&mut problems, op, "a path id that is not a UUID", answered, Some(400));
        }

        let body_types = op.body_types();
        if !body_types.is_empty() {
            // No operation takes text/plain.
            let wrong_type = Request { token, body: Some(("text/plain", b"{}".to_vec())), ..Request::default() };
            let answered = status(&app, op, &url, wrong_type).await;
            check(&mut problems, op, "a text/plain body", answered, Some(415));
        }
        if body_types.iter().any(|t| t == "application/json") {
            let malformed =
                Request { token, body: Some(("application/json", b"{\"unterminated".to_vec())), ..Request::default() };
            let answered = status(&app, op, &url, malformed).await;
            check(&mut problems, op, "malformed JSON", answered, Some(400));
            // No request schema is an array.
            let wrong_shape = Request { token, body: Some(("application/json", b"[]".to_vec())), ..Request::default() };
            let answered = status(&app, op, &url, wrong_shape).await;
            check(&mut problems, op, "JSON of the wrong shape", answered, Some(422));
        }
        if body_types.iter().any(|t| t == "multipart/form-data") {
            if !body_types.iter().any(|t| t == "application/json") {
                let json = Request { token, body: Some(("application/json", b"{}".to_vec())), ..Request::default() };
                let answered = status(&app, op, &url, json).await;
                check(&mut problems, op, "a JSON body", answered, Some(415));
            }
            // Where the conversation does not exist this is 404 first; either way, documented.
            let malformed = Request {
                token,
                body: Some(("multipart/form-data; boundary=XYZ", b"--XYZ\r\nnot a part".to_vec())),
                ..Request::default()
            };
            let answered = status(&app, op, &url, malformed).await;
            check(&mut problems, op, "a malformed multipart body", answered, None);
        }

        for parameter in op.parameters("query") {
            if is_integer(&parameter["schema"]) {
                let query = format!("{}=not-a-number", parameter["name"].as_str().unwrap());
                let answered =
                    status(&app, op, &op.url(SOME_ID, &query), Request { token, ..Request::default() }).await;
                check(&mut problems, op, &format!("`{query}`"), answered, Some(400));
            }
        }

        // Signed in with well-formed ids and nothing else (a required query parameter or a
        // body left out, a WebSocket request that is not an upgrade, an id that names
        // nothing): whatever that answers is documented too.
        let answered = status(&app, op, &url, Request { token, ..Request::default() }).await;
        check(&mut problems, op, "a bare signed-in request", answered, None);
        still_signed_in(&app, &mut alice).await;
    }
    assert!(problems.is_empty(), "{} mismatches:\n{}", problems.len(), problems.join("\n"));
}

#[tokio::test]
async fn every_documented_error_is_described_with_the_error_body() {
    let app = spawn_app().await;
    let doc = app.call(Method::GET, "/api/openapi.json", None, None).await.body;
    let mut problems = Vec::new();
    for op in operations(&doc) {
        for (status, response) in op.spec["responses"].as_object().unwrap() {
            let code: u16 = status.parse().unwrap();
            if code < 400 {
                continue;
            }
            if response["description"].as_str().is_none_or(|d| d.trim().is_empty()) {
                problems.push(format!("{} {status} has no description", op.name()));
            }
            // Health's 503 is the health report itself; every other error is an ErrorBody.
            let schema = &response["content"]["application/json"]["schema"]["$ref"];
            if schema != "#/components/schemas/ErrorBody" && !(op.path == "/api/health" && code == 503) {
                problems.push(format!("{} {status} does not reference ErrorBody ({schema})", op.name()));
            }
            if code == 429 && response["headers"].get("Retry-After").is_none() {
                problems.push(format!("{} 429 has no Retry-After header", op.name()));
            }
        }
    }
    // The rate-limited entrances: login, and registration (per client address).
    for (method, path) in [("post", "/api/session"), ("post", "/api/users")] {
        if doc["paths"][path][method]["responses"].get("429").is_none() {
            problems.push(format!("{} {path} does not document 429", method.to_uppercase()));
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
