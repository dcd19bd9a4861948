//! kube-apiserver's REST surface over the store: discovery, the resource paths, auth and the
//! `Table` form that `kubectl get` asks for.

use crate::catalog::{self, ResourceType};
use crate::openapi;
use crate::printing::table;
use crate::selector::LabelSelector;
use crate::store::{
    ApiError, Change, ChangeKind, FieldSelector, FieldValidation, Propagation, Store, WriteOptions,
};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// What the server shares between connections.
pub struct Shared {
    pub store: Mutex<Store>,
    pub tokens: HashMap<String, Access>,
    /// How often watches that asked for bookmarks get one.
    pub bookmark_interval: Duration,
    pub faults: crate::faults::Faults,
    /// How many lists (not watches) of each resource type were served, by plural.
    pub lists: Mutex<HashMap<String, u64>>,
}

use crate::Access;

/// The one handler: kube-apiserver paths are easier to read as segments than as routes.
/// Whether the connection presented a client certificate the sandbox's CA signed.
#[derive(Debug, Clone, Copy)]
pub struct PeerCertificate(pub bool);

pub async fn handle(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    peer: Option<axum::Extension<PeerCertificate>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match shared.faults.take() {
        crate::faults::Injected::None => {}
        crate::faults::Injected::Throttled {
            retry_after_seconds,
        } => {
            let e = ApiError::new(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
            );
            let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, &e.to_status());
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_seconds),
            );
            return response;
        }
        crate::faults::Injected::ServerError => {
            let e = ApiError::new(
                500,
                "InternalError",
                "Internal error occurred: injected by the sandbox",
            );
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, &e.to_status());
        }
    }
    let certified = peer.is_some_and(|axum::Extension(PeerCertificate(c))| c);
    let result = authorize(&shared, &headers, certified)
        .and_then(|access| {
            if shared.faults.namespaced_only() {
                refuse_across_namespaces(&method, &uri)?;
            }
            Ok(access)
        })
        .and_then(|access| route(&shared, access, &method, &uri, &headers, &body));
    match result {
        Ok(Reply::Json(status, value, warnings)) => {
            let mut response = json_response(status, &value);
            for warning in warnings {
                // RFC 7234 warn-code 299 ("miscellaneous persistent warning"), as kube-apiserver sends.
                let text = format!("299 - {}", Value::String(warning));
                if let Ok(value) = header::HeaderValue::from_str(&text) {
                    response.headers_mut().append(header::WARNING, value);
                }
            }
            response
        }
        Ok(Reply::Aggregated(value)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, AGGREGATED_DISCOVERY)],
            value.to_string(),
        )
            .into_response(),
        Ok(Reply::Watch(watch)) => {
            watch.into_response(shared.bookmark_interval, shared.faults.watch_drops())
        }
        Ok(Reply::Log(log)) => log_response(log),
        Ok(Reply::Bytes(content_type, bytes)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, content_type)],
            bytes,
        )
            .into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            json_response(status, &e.to_status())
        }
    }
}

/// The log as text; a followed one stays open, a line a second, until the client goes.
fn log_response(log: crate::logs::Log) -> Response {
    use futures::StreamExt;
    let Some(container) = log.follow else {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            log.text,
        )
            .into_response();
    };
    let first = Bytes::from(log.text);
    let ticks = futures::stream::unfold(1u64, move |n| {
        let container = container.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let line = crate::logs::format_line(
                &at,
                &format!("{container}: served request {n}"),
                log.timestamps,
            );
            Some((Ok::<_, std::convert::Infallible>(Bytes::from(line)), n + 1))
        }
    });
    let stream = futures::stream::once(async move { Ok(first) }).chain(ticks);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(axum::body::Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// A bearer token decides when there is one (a wrong token is refused even over a certified
/// connection, as kube-apiserver refuses it); otherwise a client certificate.
fn authorize(shared: &Shared, headers: &HeaderMap, certified: bool) -> Result<Access, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(t) => shared.tokens.get(t).copied(),
        None => certified.then_some(Access::Admin),
    }
    .ok_or_else(|| ApiError::new(401, "Unauthorized", "Unauthorized"))
}

/// With [`crate::faults::Faults::refuse_lists_across_namespaces`]: a list or watch of a whole
/// collection (`/api/v1/PLURAL`, `/apis/GROUP/VERSION/PLURAL`) is forbidden, in kube-apiserver's
/// words.
fn refuse_across_namespaces(method: &Method, uri: &Uri) -> Result<(), ApiError> {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let (group, plural) = match segments.as_slice() {
        ["api", "v1", plural] => ("", *plural),
        ["apis", group, _, plural] => (*group, *plural),
        _ => return Ok(()),
    };
    if method != Method::GET {
        return Ok(());
    }
    let verb = if uri
        .query()
        .is_some_and(|q| q.contains("watch=true") || q.contains("watch=1"))
    {
        "watch"
    } else {
        "list"
    };
    Err(ApiError::new(
        403,
        "Forbidden",
        format!(
            "{plural}{} is forbidden: User \"{}\" cannot {verb} resource \"{plural}\" in API group \"{group}\" at the cluster scope",
            if group.is_empty() {
                String::new()
            } else {
                format!(".{group}")
            },
            crate::ADMIN_USER
        ),
    ))
}

/// What a request gets: one JSON document, or a stream of watch events.
enum Reply {
    /// A JSON document, with `Warning` headers for what the server dropped.
    Json(StatusCode, Value, Vec<String>),
    /// Aggregated discovery, which has a content type of its own.
    Aggregated(Value),
    Watch(Watch),
    /// A container's log, plain text, perhaps followed.
    Log(crate::logs::Log),
    /// Bytes of their own content type (the OpenAPI v2 document in protobuf).
    Bytes(&'static str, Vec<u8>),
}

type Json = (StatusCode, Value);

fn route(
    shared: &Shared,
    access: Access,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let query = parse_query(uri.query().unwrap_or_default());
    let ok = |v: Value| Ok(Reply::Json(StatusCode::OK, v, Vec::new()));
    // What is served can change with every CRD: read it once per request.
    let types = shared
        .store
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .types();
    match segments.as_slice() {
        ["api" | "apis"] if wants_aggregated(headers) => {
            Ok(Reply::Aggregated(aggregated(&types, segments[0] == "api")))
        }
        ["version"] => ok(version()),
        ["openapi", "v2"] => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if accept.contains("protobuf") {
                Ok(Reply::Bytes(openapi::V2_PROTOBUF, openapi::v2_protobuf()))
            } else {
                ok(openapi::v2())
            }
        }
        ["openapi", "v3"] => ok(openapi::root(&types)),
        ["openapi", "v3", "api", "v1"] => {
            openapi::group_version(&types, "", "v1").map_or_else(|| Err(not_served(uri)), ok)
        }
        ["openapi", "v3", "apis", group, version] => {
            openapi::group_version(&types, group, version).map_or_else(|| Err(not_served(uri)), ok)
        }
        ["healthz" | "readyz" | "livez"] => ok(json!("ok")),
        ["api"] => {
            ok(json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}))
        }
        ["apis"] => ok(group_list(&types)),
        ["api", "v1"] => ok(resource_list(&types, "", "v1")),
        ["apis", group] => group_of(&types, group)
            .map(|g| Reply::Json(StatusCode::OK, g, Vec::new()))
            .ok_or_else(|| not_served(uri)),
        ["apis", group, version]
            if !catalog::in_group_version(&types, group, version).is_empty() =>
        {
            ok(resource_list(&types, group, version))
        }
        ["api", "v1", "namespaces", ns, "pods", name, "log"] => {
            if *method != Method::GET {
                return Err(ApiError::new(
                    405,
                    "MethodNotAllowed",
                    "the log can only be read",
                ));
            }
            let pods = catalog::by_plural("", "v1", "pods").ok_or_else(|| not_served(uri))?;
            let pod =
                shared
                    .store
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(pods, Some(ns), name)?;
            crate::logs::read(&pod, &query).map(Reply::Log)
        }
        [
            "apis",
            "apps",
            "v1",
            "namespaces",
            ns,
            plural,
            name,
            "scale",
        ] if matches!(*plural, "deployments" | "replicasets" | "statefulsets") => {
            let rt = catalog::by_plural("apps", "v1", plural).ok_or_else(|| not_served(uri))?;
            scale(shared, access, method, rt, ns, name, &query, headers, body)
        }
        [
            "api",
            "v1",
            "namespaces",
            ns,
            "replicationcontrollers",
            name,
            "scale",
        ] => {
            let rt = catalog::by_plural("", "v1", "replicationcontrollers")
                .ok_or_else(|| not_served(uri))?;
            scale(shared, access, method, rt, ns, name, &query, headers, body)
        }
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectrulesreviews",
        ] if *method == Method::POST => {
            let mut review = parse_body(body, content_type(headers))?;
            review["kind"] = json!("SelfSubjectRulesReview");
            review["apiVersion"] = json!("authorization.k8s.io/v1");
            review["status"] = rules(access, &types);
            Ok(Reply::Json(StatusCode::CREATED, review, Vec::new()))
        }
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] if *method == Method::POST => {
            let review = parse_body(body, content_type(headers))?;
            let allowed = may(access, &types, &review["spec"]);
            Ok(Reply::Json(
                StatusCode::CREATED,
                access_review(review, allowed, query.get("fieldManager")),
                Vec::new(),
            ))
        }
        ["api", "v1", rest @ ..] => {
            let t = target(&types, "", "v1", rest, uri)?;
            resource(shared, access, method, t, &query, headers, body, uri)
        }
        ["apis", group, version, rest @ ..] => {
            let t = target(&types, group, version, rest, uri)?;
            resource(shared, access, method, t, &query, headers, body, uri)
        }
        _ => Err(not_served(uri)),
    }
}

fn not_served(uri: &Uri) -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        format!(
            "the server could not find the requested resource ({})",
            uri.path()
        ),
    )
}

fn version() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-sandbox", "gitCommit": "sandbox",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23",
        "compiler": "gc", "platform": "linux/amd64"
    })
}

fn group_of(types: &[&'static ResourceType], group: &str) -> Option<Value> {
    let versions: Vec<&str> = {
        let mut v: Vec<&str> = types
            .iter()
            .filter(|t| t.group == group)
            .map(|t| t.version)
            .collect();
        v.dedup();
        v
    };
    let first = versions.first()?;
    let entries: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    Some(json!({
        "kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": entries,
        "preferredVersion": {"groupVersion": format!("{group}/{first}"), "version": first}
    }))
}

const AGGREGATED_DISCOVERY: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Clients that can take aggregated discovery ask for it first in `Accept`.
fn wants_aggregated(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',').any(|t| {
                t.contains("as=APIGroupDiscoveryList")
                    && t.contains("v=v2")
                    && !t.contains("v=v2beta1")
            })
        })
}

/// Every group, version and resource in one document (`/api` holds the core group only).
fn aggregated(types: &[&'static ResourceType], core: bool) -> Value {
    let groups: Vec<&str> = if core {
        vec![""]
    } else {
        catalog::groups(types)
    };
    let items: Vec<Value> = groups
        .into_iter()
        .map(|group| {
            let mut versions: Vec<&str> = types.iter().filter(|t| t.group == group).map(|t| t.version).collect();
            versions.dedup();
            let versions: Vec<Value> = versions
                .into_iter()
                .map(|version| {
                    let resources: Vec<Value> = catalog::in_group_version(types, group, version)
                        .into_iter()
                        .map(|t| {
                            let kind = json!({"group": t.group, "version": t.version, "kind": t.kind});
                            let mut r = json!({
                                "resource": t.plural, "responseKind": kind, "singularResource": t.singular,
                                "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
                                "verbs": catalog::VERBS, "shortNames": t.short_names,
                                "categories": catalog::categories(t),
                            });
                            let mut subresources = Vec::new();
                            if catalog::has_status_subresource(t) {
                                subresources.push(json!({"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}));
                            }
                            if has_scale(t) {
                                subresources.push(json!({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]}));
                            }
                            if !subresources.is_empty() {
                                r["subresources"] = json!(subresources);
                            }
                            r
                        })
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let metadata = if group.is_empty() { json!({"creationTimestamp": null}) } else { json!({"name": group, "creationTimestamp": null}) };
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

fn group_list(types: &[&'static ResourceType]) -> Value {
    let groups: Vec<Value> = catalog::groups(types)
        .into_iter()
        .filter_map(|g| group_of(types, g))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(types: &[&'static ResourceType], group: &str, version: &str) -> Value {
    let mut resources: Vec<Value> = Vec::new();
    for t in catalog::in_group_version(types, group, version) {
        resources.push(json!({
            "name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
            "kind": t.kind, "verbs": catalog::VERBS, "shortNames": t.short_names,
            "categories": catalog::categories(t),
        }));
        if catalog::has_status_subresource(t) {
            resources.push(json!({
                "name": format!("{}/status", t.plural), "singularName": "", "namespaced": t.namespaced,
                "kind": t.kind, "verbs": ["get", "patch", "update"],
            }));
        }
        if has_scale(t) {
            resources.push(json!({
                "name": format!("{}/scale", t.plural), "singularName": "", "namespaced": true,
                "group": "autoscaling", "version": "v1", "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a resource path points.
struct Target<'a> {
    rt: &'static ResourceType,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
    /// The request is for the `status` subresource.
    status: bool,
}

fn status_of(rt: &'static ResourceType, uri: &Uri) -> Result<&'static ResourceType, ApiError> {
    if catalog::has_status_subresource(rt) {
        Ok(rt)
    } else {
        Err(not_served(uri))
    }
}

fn cluster_scoped(rt: &'static ResourceType, uri: &Uri) -> Result<&'static ResourceType, ApiError> {
    if rt.namespaced {
        Err(not_served(uri))
    } else {
        Ok(rt)
    }
}

fn target<'a>(
    types: &[&'static ResourceType],
    group: &str,
    version: &str,
    rest: &[&'a str],
    uri: &Uri,
) -> Result<Target<'a>, ApiError> {
    let lookup = |plural: &str| {
        types
            .iter()
            .copied()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
            .ok_or_else(|| not_served(uri))
    };
    match rest {
        ["namespaces", ns, plural] => Ok(Target {
            rt: lookup(plural)?,
            namespace: Some(ns),
            name: None,
            status: false,
        }),
        ["namespaces", ns, plural, name] => Ok(Target {
            rt: lookup(plural)?,
            namespace: Some(ns),
            name: Some(name),
            status: false,
        }),
        ["namespaces", ns, plural, name, "status"] => Ok(Target {
            rt: status_of(lookup(plural)?, uri)?,
            namespace: Some(ns),
            name: Some(name),
            status: true,
        }),
        [plural] => Ok(Target {
            rt: lookup(plural)?,
            namespace: None,
            name: None,
            status: false,
        }),
        [plural, name, "status"] => Ok(Target {
            rt: status_of(cluster_scoped(lookup(plural)?, uri)?, uri)?,
            namespace: None,
            name: Some(name),
            status: true,
        }),
        [plural, name] => {
            let rt = cluster_scoped(lookup(plural)?, uri)?;
            Ok(Target {
                rt,
                namespace: None,
                name: Some(name),
                status: false,
            })
        }
        _ => Err(not_served(uri)),
    }
}

#[allow(clippy::too_many_arguments)]
fn resource(
    shared: &Shared,
    access: Access,
    method: &Method,
    t: Target,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
    uri: &Uri,
) -> Result<Reply, ApiError> {
    let watching = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    if access == Access::ReadOnly && (*method != Method::GET || !viewable(t.rt)) {
        return Err(forbidden(method, &t, watching));
    }
    let wants_table = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"));
    if *method == Method::GET && t.name.is_none() && watching {
        return Watch::start(shared, &t, query, wants_table).map(Reply::Watch);
    }
    if *method == Method::GET && t.name.is_none() {
        *shared
            .lists
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(t.rt.plural.to_string())
            .or_default() += 1;
    }
    let mut store = shared
        .store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let reply = verbs(
        &mut store,
        method,
        &t,
        query,
        headers,
        body,
        uri,
        wants_table,
    );
    let mut warnings = store.take_warnings();
    if t.rt.group.is_empty() && t.rt.plural == "endpoints" {
        warnings.push(
            "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice".into(),
        );
    }
    reply.map(|(status, value)| Reply::Json(status, value, warnings))
}

#[allow(clippy::too_many_arguments)]
fn verbs(
    store: &mut Store,
    method: &Method,
    t: &Target,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
    uri: &Uri,
    wants_table: bool,
) -> Result<Json, ApiError> {
    let opts = WriteOptions {
        field_manager: query.get("fieldManager").cloned(),
        dry_run: query.get("dryRun").is_some_and(|v| v == "All"),
        force: query.get("force").is_some_and(|v| v == "true"),
        status: t.status,
        propagation: Propagation::default(),
        field_validation: FieldValidation::parse(query.get("fieldValidation"))?,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();

    match (method, t.name) {
        (&Method::GET, None) => {
            let labels =
                LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))
                    .map_err(ApiError::bad_request)?;
            let fields =
                FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str))?;
            let items = store.list(t.rt, t.namespace, &labels, &fields);
            let rv = store.resource_version();
            let page = paginate(items, query.get("limit"), query.get("continue"))?;
            let mut body = if wants_table {
                table(t.rt, &page.items, &rv)
            } else {
                list(t.rt, page.items, &rv)
            };
            if let Some(token) = page.continue_token {
                body["metadata"]["continue"] = json!(token);
                body["metadata"]["remainingItemCount"] = json!(page.remaining);
            }
            Ok((StatusCode::OK, body))
        }
        (&Method::GET, Some(name)) => {
            let obj = store.get(t.rt, t.namespace, name)?;
            let rv = store.resource_version();
            Ok((
                StatusCode::OK,
                if wants_table {
                    table(t.rt, &[obj], &rv)
                } else {
                    obj
                },
            ))
        }
        (&Method::POST, None) => {
            let obj = parse_body(body, content_type)?;
            store
                .create(t.rt, t.namespace, obj, &opts)
                .map(|o| (StatusCode::CREATED, o))
        }
        (&Method::PUT, Some(name)) => {
            let obj = parse_body(body, content_type)?;
            store
                .update(t.rt, t.namespace, name, obj, &opts)
                .map(|o| (StatusCode::OK, o))
        }
        (&Method::PATCH, Some(name)) => {
            let patch = parse_body(body, content_type)?;
            let media = content_type.split(';').next().unwrap_or_default().trim();
            match media {
                "application/apply-patch+yaml" | "application/apply-patch+json" => {
                    let existed = store.get(t.rt, t.namespace, name).is_ok();
                    let obj = store.apply(t.rt, t.namespace, name, &patch, &opts)?;
                    Ok((
                        if existed {
                            StatusCode::OK
                        } else {
                            StatusCode::CREATED
                        },
                        obj,
                    ))
                }
                "application/merge-patch+json" => store
                    .merge_patch(t.rt, t.namespace, name, &patch, &opts)
                    .map(|o| (StatusCode::OK, o)),
                "application/strategic-merge-patch+json" => store
                    .strategic_merge_patch(t.rt, t.namespace, name, &patch, &opts)
                    .map(|o| (StatusCode::OK, o)),
                "application/json-patch+json" => store
                    .json_patch(t.rt, t.namespace, name, &patch, &opts)
                    .map(|o| (StatusCode::OK, o)),
                other => Err(ApiError::new(
                    415,
                    "UnsupportedMediaType",
                    format!(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got {other:?})"
                    ),
                )),
            }
        }
        (&Method::DELETE, Some(name)) => {
            let opts = delete_options(opts, query, body)?;
            store
                .delete(t.rt, t.namespace, name, &opts)
                .map(|o| (StatusCode::OK, o))
        }
        (&Method::DELETE, None) => {
            let opts = delete_options(opts, query, body)?;
            let labels =
                LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))
                    .map_err(ApiError::bad_request)?;
            let fields =
                FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str))?;
            let deleted = store.delete_collection(t.rt, t.namespace, &labels, &fields, &opts);
            Ok((
                StatusCode::OK,
                list(t.rt, deleted, &store.resource_version()),
            ))
        }
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            format!("{method} is not supported on {}", uri.path()),
        )),
    }
}

/// Propagation and dry run of a delete, from the query or a `DeleteOptions` body.
fn delete_options(
    mut opts: WriteOptions,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Result<WriteOptions, ApiError> {
    let options: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    let policy = query
        .get("propagationPolicy")
        .map(String::as_str)
        .or_else(|| options.get("propagationPolicy").and_then(Value::as_str));
    if let Some(policy) = policy {
        opts.propagation = Propagation::parse(policy)?;
    } else if options.get("orphanDependents").and_then(Value::as_bool) == Some(true) {
        opts.propagation = Propagation::Orphan;
    }
    if options
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|d| d.iter().any(|v| v == "All"))
    {
        opts.dry_run = true;
    }
    Ok(opts)
}

/// kube-apiserver's RBAC refusal, worded as it words it.
/// What Kubernetes' `view` ClusterRole lets its user read, bound cluster-wide as the sandbox's
/// read-only user is: the workloads and their configuration, never Secrets, Nodes, RBAC or
/// custom resources (whose CRDs do not aggregate into view).
fn viewable(rt: &ResourceType) -> bool {
    match rt.group {
        "" => !matches!(
            rt.plural,
            "secrets" | "nodes" | "persistentvolumes" | "componentstatuses"
        ),
        "apps" | "autoscaling" | "batch" | "policy" | "discovery.k8s.io" => true,
        "networking.k8s.io" => matches!(rt.plural, "ingresses" | "networkpolicies"),
        _ => false,
    }
}

/// The `scale` subresource of a workload (`kubectl scale`, HorizontalPodAutoscalers): an
/// autoscaling/v1 Scale read from it, and written back as its `spec.replicas`.
#[allow(clippy::too_many_arguments)]
fn scale(
    shared: &Shared,
    access: Access,
    method: &Method,
    rt: &'static ResourceType,
    ns: &str,
    name: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let t = Target {
        rt,
        namespace: Some(ns),
        name: Some(name),
        status: false,
    };
    if access == Access::ReadOnly && (*method != Method::GET || !viewable(rt)) {
        return Err(forbidden(method, &t, false));
    }
    let mut store = shared.store.lock().unwrap_or_else(|p| p.into_inner());
    let live = store.get(rt, Some(ns), name)?;
    let current = scale_of(&live);
    let content_type = content_type(headers);
    let wanted = match *method {
        Method::GET => return Ok(Reply::Json(StatusCode::OK, current, Vec::new())),
        Method::PUT => parse_body(body, content_type)?,
        Method::PATCH => {
            let patch = parse_body(body, content_type)?;
            let mut scaled = current.clone();
            if content_type.starts_with("application/json-patch+json") {
                let patch: json_patch::Patch = serde_json::from_value(patch)
                    .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
                json_patch::patch(&mut scaled, &patch)
                    .map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?;
            } else {
                crate::store::merge(&mut scaled, &patch);
            }
            scaled
        }
        _ => {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the scale subresource is read, updated or patched",
            ));
        }
    };
    let replicas = wanted["spec"]["replicas"].as_i64().ok_or_else(|| {
        ApiError::new(
            422,
            "Invalid",
            format!("Scale.autoscaling \"{name}\" is invalid: spec.replicas: Required value"),
        )
    })?;
    let mut updated = live;
    updated["spec"]["replicas"] = json!(replicas);
    let opts = crate::store::WriteOptions {
        field_manager: query.get("fieldManager").cloned(),
        dry_run: query.get("dryRun").is_some_and(|d| d == "All"),
        ..Default::default()
    };
    let written = store.update(rt, Some(ns), name, updated, &opts)?;
    Ok(Reply::Json(StatusCode::OK, scale_of(&written), Vec::new()))
}

/// A request body's media type, JSON when it says none.
fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
}

/// The kinds with a `scale` subresource.
fn has_scale(t: &ResourceType) -> bool {
    matches!(
        (t.group, t.plural),
        ("apps", "deployments" | "replicasets" | "statefulsets") | ("", "replicationcontrollers")
    )
}

/// The autoscaling/v1 Scale of a workload.
fn scale_of(workload: &Value) -> Value {
    let metadata = &workload["metadata"];
    let selector = workload["spec"]["selector"]
        .get("matchLabels")
        .unwrap_or(&workload["spec"]["selector"])
        .as_object()
        .map(|labels| {
            let mut pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            pairs.sort();
            pairs.join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": metadata["name"], "namespace": metadata["namespace"], "uid": metadata["uid"],
            "resourceVersion": metadata["resourceVersion"],
            "creationTimestamp": metadata["creationTimestamp"],
        },
        "spec": {"replicas": workload["spec"]["replicas"]},
        "status": {
            "replicas": workload["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector,
        },
    })
}

/// Whether `access` may do what a SelfSubjectAccessReview's spec asks (`kubectl auth can-i`).
fn may(access: Access, types: &[&'static ResourceType], spec: &Value) -> bool {
    if access == Access::Admin {
        return true;
    }
    let verb = |at: &str| spec[at]["verb"].as_str().unwrap_or_default().to_string();
    if spec["nonResourceAttributes"].is_object() {
        return verb("nonResourceAttributes") == "get";
    }
    let attributes = &spec["resourceAttributes"];
    let group = attributes["group"].as_str().unwrap_or_default();
    let plural = attributes["resource"].as_str().unwrap_or_default();
    matches!(
        verb("resourceAttributes").as_str(),
        "get" | "list" | "watch"
    ) && types
        .iter()
        .find(|t| t.group == group && t.plural == plural)
        .is_some_and(|t| viewable(t))
}

/// What `access` may do, as `kubectl auth can-i --list` reads it: everything for the admin;
/// reading what Kubernetes' view role reads for the read-only user.
fn rules(access: Access, types: &[&'static ResourceType]) -> Value {
    // What every user may do: review itself (system:basic-user), read discovery
    // (system:discovery) and the server's health and version (system:public-info-viewer).
    let mut resource_rules = vec![
        json!({"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]}),
        json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}),
    ];
    let mut non_resource_rules = vec![
        json!({"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]}),
        json!({"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]}),
    ];
    if access == Access::Admin {
        resource_rules.insert(
            0,
            json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}),
        );
        non_resource_rules.insert(0, json!({"verbs": ["*"], "nonResourceURLs": ["*"]}));
        return json!({
            "resourceRules": resource_rules,
            "nonResourceRules": non_resource_rules,
            "incomplete": false,
        });
    }
    let mut by_group: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for t in types.iter().filter(|t| viewable(t)) {
        by_group.entry(t.group).or_default().push(t.plural);
    }
    resource_rules.extend(by_group.into_iter().map(|(group, plurals)| {
        json!({"verbs": ["get", "list", "watch"], "apiGroups": [group], "resources": plurals})
    }));
    json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": false,
    })
}

/// The review as kube-apiserver answers it: the request, who asked for it, and the verdict.
fn access_review(mut review: Value, allowed: bool, manager: Option<&String>) -> Value {
    let spec = json!({"spec": review["spec"].clone()});
    let fields = crate::fields::to_fields_v1(&crate::fields::leaf_paths(&spec));
    review["kind"] = json!("SelfSubjectAccessReview");
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["metadata"] = json!({"managedFields": [{
        "manager": manager.map_or("unknown", String::as_str), "operation": "Update",
        "apiVersion": "authorization.k8s.io/v1",
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "fieldsType": "FieldsV1", "fieldsV1": fields,
    }]});
    review["status"] = json!({"allowed": allowed});
    review
}

/// kube-apiserver's refusal of the read-only user, word for word.
fn forbidden(method: &Method, t: &Target, watching: bool) -> ApiError {
    let verb = match (method, t.name) {
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, None) => "deletecollection",
        (&Method::DELETE, Some(_)) => "delete",
        (_, Some(_)) => "get",
        (_, None) if watching => "watch",
        _ => "list",
    };
    let scope = match t.namespace.filter(|_| t.rt.namespaced) {
        Some(ns) => format!(" in the namespace \"{ns}\""),
        None => " at the cluster scope".to_string(),
    };
    let subject = match t.name {
        Some(name) => format!("{} \"{name}\"", qualified_plural(t.rt)),
        None => qualified_plural(t.rt),
    };
    let mut e = ApiError::new(
        403,
        "Forbidden",
        format!(
            "{subject} is forbidden: User \"{}\" cannot {verb} resource \"{}\" in API group \"{}\"{scope}",
            crate::READ_ONLY_USER,
            t.rt.plural,
            t.rt.group
        ),
    );
    e.details =
        Some(json!({"name": t.name.unwrap_or_default(), "group": t.rt.group, "kind": t.rt.plural}));
    e
}

fn qualified_plural(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        rt.plural.to_string()
    } else {
        format!("{}.{}", rt.plural, rt.group)
    }
}

/// One page of a list.
struct Page {
    items: Vec<Value>,
    continue_token: Option<String>,
    remaining: usize,
}

/// `limit` and `continue`: items come in (namespace, name) order; the token names the last
/// item of the page, so the next page starts after it.
fn paginate(
    items: Vec<Value>,
    limit: Option<&String>,
    token: Option<&String>,
) -> Result<Page, ApiError> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let position = |v: &Value| {
        (
            v.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            v.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        )
    };
    let after: Option<(String, String)> = match token.filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => {
            let bad = || {
                ApiError::bad_request(
                    "continue key is not valid: the token was not issued by this server",
                )
            };
            let decoded = engine.decode(t).map_err(|_| bad())?;
            Some(serde_json::from_slice(&decoded).map_err(|_| bad())?)
        }
    };
    let limit = match limit.filter(|l| !l.is_empty()) {
        None => 0,
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request(format!("invalid limit: {l:?}")))?,
    };
    let mut rest: Vec<Value> = match &after {
        None => items,
        Some(after) => items.into_iter().filter(|v| &position(v) > after).collect(),
    };
    if limit == 0 || rest.len() <= limit {
        return Ok(Page {
            items: rest,
            continue_token: None,
            remaining: 0,
        });
    }
    let tail = rest.split_off(limit);
    let last = rest.last().map(position).unwrap_or_default();
    Ok(Page {
        continue_token: Some(engine.encode(serde_json::to_vec(&last).unwrap_or_default())),
        remaining: tail.len(),
        items: rest,
    })
}

/// A watch being served: what to replay, where new changes come from, and how to show them.
pub struct Watch {
    rt: &'static ResourceType,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    replay: Vec<Arc<Change>>,
    receiver: Option<broadcast::Receiver<Arc<Change>>>,
    revision: u64,
    bookmarks: bool,
    timeout: Option<Duration>,
    table: bool,
    /// Sent as a single ERROR event (kube-apiserver reports an expired version this way).
    error: Option<ApiError>,
}

impl Watch {
    fn start(
        shared: &Shared,
        t: &Target,
        query: &HashMap<String, String>,
        table: bool,
    ) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))
            .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str))?;
        let timeout = match query.get("timeoutSeconds") {
            Some(s) => Some(Duration::from_secs(s.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid timeoutSeconds: {s:?}"))
            })?)),
            None => None,
        };
        let store = shared.store.lock().unwrap_or_else(|p| p.into_inner());
        let mut watch = Self {
            rt: t.rt,
            namespace: t.namespace.map(str::to_string),
            labels,
            fields,
            replay: Vec::new(),
            receiver: None,
            revision: store.resource_version().parse().unwrap_or_default(),
            bookmarks: query
                .get("allowWatchBookmarks")
                .is_some_and(|v| v == "true"),
            timeout,
            table,
            error: None,
        };
        match store.watch(
            t.rt,
            t.namespace,
            query.get("resourceVersion").map(String::as_str),
        ) {
            Ok((replay, receiver)) => {
                watch.replay = replay;
                watch.receiver = Some(receiver);
            }
            Err(e) if e.code == 410 => watch.error = Some(e),
            Err(e) => return Err(e),
        }
        Ok(watch)
    }

    fn matches(&self, obj: &Value) -> bool {
        self.labels.matches_object(obj) && self.fields.matches(obj)
    }

    /// The event line for `change`, if this watch sees it. An object that starts or stops
    /// matching the selectors arrives as ADDED or DELETED, as kube-apiserver sends it.
    fn event(&self, change: &Change) -> Option<Bytes> {
        let in_scope = change.group == self.rt.group
            && change.plural == self.rt.plural
            && (self.namespace.is_none()
                || !self.rt.namespaced
                || self.namespace.as_deref() == Some(change.namespace.as_str()));
        if !in_scope {
            return None;
        }
        let now = self.matches(&change.object);
        let kind = match change.kind {
            ChangeKind::Added if now => "ADDED",
            ChangeKind::Deleted if now => "DELETED",
            ChangeKind::Modified => match (
                change.previous.as_ref().is_some_and(|p| self.matches(p)),
                now,
            ) {
                (true, true) => "MODIFIED",
                (true, false) => "DELETED",
                (false, true) => "ADDED",
                (false, false) => return None,
            },
            _ => return None,
        };
        if self.table {
            let object = table(
                self.rt,
                std::slice::from_ref(&*change.object),
                &change.revision.to_string(),
            );
            return Some(line(&json!({"type": kind, "object": object})));
        }
        // Written straight from the shared object: no copy per watcher.
        Some(Bytes::from(format!(
            "{{\"type\":\"{kind}\",\"object\":{}}}\n",
            change.object
        )))
    }

    fn bookmark(&self) -> Bytes {
        line(&json!({
            "type": "BOOKMARK",
            "object": {"kind": self.rt.kind, "apiVersion": self.rt.api_version(),
                       "metadata": {"resourceVersion": self.revision.to_string()}}
        }))
    }

    fn into_response(
        self,
        bookmark_every: Duration,
        drops: tokio::sync::watch::Receiver<u64>,
    ) -> Response {
        let (tx, rx) = mpsc::channel::<Bytes>(64);
        tokio::spawn(self.run(tx, bookmark_every, drops));
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|bytes| (Ok::<_, std::convert::Infallible>(bytes), rx))
        });
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from_stream(stream))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    }

    async fn run(
        mut self,
        tx: mpsc::Sender<Bytes>,
        bookmark_every: Duration,
        mut drops: tokio::sync::watch::Receiver<u64>,
    ) {
        drops.mark_unchanged();
        if let Some(error) = &self.error {
            let _ = tx
                .send(line(&json!({"type": "ERROR", "object": error.to_status()})))
                .await;
            return;
        }
        for change in std::mem::take(&mut self.replay) {
            if let Some(event) = self.event(&change)
                && tx.send(event).await.is_err()
            {
                return;
            }
        }
        let Some(mut receiver) = self.receiver.take() else {
            return;
        };
        let deadline = self.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + bookmark_every, bookmark_every);
        loop {
            let out = tokio::select! {
                received = receiver.recv() => match received {
                    Ok(change) => {
                        self.revision = self.revision.max(change.revision);
                        self.event(&change)
                    }
                    // Lagged or closed: end the stream; the client watches again from its last version.
                    Err(_) => return,
                },
                _ = ticker.tick(), if self.bookmarks => Some(self.bookmark()),
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)), if deadline.is_some() => return,
                _ = tx.closed() => return,
                _ = drops.changed() => return,
            };
            if let Some(bytes) = out
                && tx.send(bytes).await.is_err()
            {
                return;
            }
        }
    }
}

fn line(value: &Value) -> Bytes {
    let mut text = value.to_string();
    text.push('\n');
    Bytes::from(text)
}

fn parse_body(body: &[u8], content_type: &str) -> Result<Value, ApiError> {
    if content_type.contains("protobuf") {
        return crate::protobuf::decode(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding the protobuf body: {e}")));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("request body is not UTF-8"))?;
    if content_type.contains("yaml") {
        serde_norway::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
    } else {
        serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding JSON: {e}")))
    }
}

fn list(rt: &ResourceType, items: Vec<Value>, rv: &str) -> Value {
    json!({
        "kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(),
        "metadata": {"resourceVersion": rv}, "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_decoded() {
        let q = parse_query("labelSelector=app%3Dweb%2Ctier%21%3Ddb&dryRun=All");
        assert_eq!(q["labelSelector"], "app=web,tier!=db");
        assert_eq!(q["dryRun"], "All");
    }

    #[test]
    fn broken_protobuf_bodies_are_refused_in_words() {
        let err = parse_body(b"k8s\0", "application/vnd.kubernetes.protobuf").unwrap_err();
        assert_eq!((err.code, err.reason), (400, "BadRequest"));
        assert!(err.message.contains("protobuf"), "{}", err.message);
        assert!(parse_body(b"a: 1", "application/apply-patch+yaml").is_ok());
    }

    #[test]
    fn discovery_lists_apps_group() {
        let types: Vec<&'static ResourceType> = catalog::BUILT_IN.iter().collect();
        let groups = group_list(&types);
        assert_eq!(groups["groups"][0]["name"], "apps");
        let resources = resource_list(&types, "apps", "v1");
        assert!(
            resources["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == "Deployment")
        );
    }
}
