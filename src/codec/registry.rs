//! The schema-registry client of the AvroConverter, ProtobufConverter and JsonSchemaConverter:
//! `GET /schemas/ids/{id}` (and, for schemas with references, `GET
//! /subjects/{subject}/versions/{version}`) of Confluent's REST API, which Confluent Schema
//! Registry, Apicurio (`/apis/ccompat/v7`) and Karapace all serve.
//!
//! Contract:
//! * A schema is fetched once per id and cached for the life of the connector: ids are
//!   immutable in a registry. A schema that cannot be parsed is cached as such.
//! * Who is at fault decides what happens. A registry that cannot be reached, times out, answers
//!   5xx/429/408, or refuses the credentials (401/403: a setting, not the record) is retried with
//!   exponential backoff, trying each configured URL in turn, until it answers or the connector
//!   shuts down; the record waits (and with it its partition), it is never failed for that. An id
//!   the registry does not know (404), or a schema of another type than the converter reads
//!   (`schemaType`: `AVRO` when absent, `PROTOBUF`, `JSON`), or one that does not parse or
//!   compile, is the record's fault: a per-record error, handled by the error policy.
//! * References are fetched (depth first, each subject/version once) and handed to the parser
//!   with their names: the import paths of a `.proto`, the `$ref` URLs of a JSON Schema.
//!
//! Built on `reqwest` (OpenSSL through native-tls, as librdkafka and the driver) rather than the
//! `schema_registry_converter` crate: that crate decodes into `apache_avro::Value` with its own
//! recursion (no depth bound on recursive schemas) and its own error caching and retry rules,
//! while this sink needs the fault classification above, bounded decoding into its own model,
//! and a wait that ends on shutdown. The API subset is two GETs.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::avro::AvroSchema;
use super::json_schema::JsonSchema;
use super::protobuf::ProtoSchema;
use crate::config::worker::RegistrySettings;

/// Largest registry answer read (a schema with its metadata).
const MAX_RESPONSE_BYTES: usize = 16 << 20;
/// References followed for one schema, in total.
const MAX_REFERENCES: usize = 256;
/// Per-request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema type a converter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Avro,
    Protobuf,
    Json,
}

impl Format {
    /// The registry's `schemaType`.
    pub fn schema_type(self) -> &'static str {
        match self {
            Format::Avro => "AVRO",
            Format::Protobuf => "PROTOBUF",
            Format::Json => "JSON",
        }
    }

    fn converter(self) -> &'static str {
        match self {
            Format::Avro => "AvroConverter",
            Format::Protobuf => "ProtobufConverter",
            Format::Json => "JsonSchemaConverter",
        }
    }

    fn described(self) -> &'static str {
        match self {
            Format::Avro => "a valid Avro schema",
            Format::Protobuf => "a valid Protobuf schema",
            Format::Json => "a valid JSON Schema",
        }
    }
}

/// A schema read from the registry, parsed for its converter.
#[derive(Debug)]
pub enum Schema {
    Avro(AvroSchema),
    Protobuf(ProtoSchema),
    Json(JsonSchema),
}

impl Schema {
    /// The Avro schema (tests).
    pub fn avro(&self) -> Option<&AvroSchema> {
        match self {
            Schema::Avro(s) => Some(s),
            _ => None,
        }
    }
}

/// A schema that a schema refers to: its name (an import path, a `$ref` URL, an Avro full name)
/// and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub text: String,
}

/// Parses a schema text of `format` with its references (those referred to first).
pub fn parse(format: Format, text: &str, references: &[Reference]) -> Result<Schema, String> {
    match format {
        Format::Avro => {
            let texts: Vec<String> = references.iter().map(|r| r.text.clone()).collect();
            AvroSchema::parse(text, &texts).map(Schema::Avro)
        }
        Format::Protobuf => ProtoSchema::compile(text, references).map(Schema::Protobuf),
        Format::Json => JsonSchema::parse(text, references).map(Schema::Json),
    }
}

/// The magic byte of Confluent's wire format.
pub const MAGIC: u8 = 0;

/// Splits a Confluent-framed record into its schema id and the rest; `rest` says what follows
/// the id in this format (for messages).
pub fn frame<'a>(bytes: &'a [u8], rest: &str) -> Result<(u32, &'a [u8]), String> {
    match bytes {
        [] => {
            Err(format!("Empty payload: not in the Confluent wire format (magic byte 0x00, 4-byte schema id, {rest})"))
        }
        [magic, ..] if *magic != MAGIC => Err(format!(
            "Unknown magic byte 0x{magic:02x}: not in the Confluent wire format (magic byte 0x00, 4-byte schema id, {rest})"
        )),
        [_, a, b, c, d, body @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), body)),
        _ => Err(format!(
            "Payload of {} bytes is too short for the Confluent wire format (magic byte 0x00 and a 4-byte schema id)",
            bytes.len()
        )),
    }
}

/// What a schema look-up gave.
#[derive(Debug, Clone)]
pub enum Lookup {
    Found(Arc<Schema>),
    /// The record's fault (unknown id, another schema type, a schema that does not parse).
    Bad(String),
    /// Shut down while the registry could not be reached.
    Interrupted,
}

/// One registry (its fail-over URLs) and the schemas read from it.
pub struct Registry {
    client: reqwest::Client,
    urls: Vec<Url>,
    auth: Option<(String, String)>,
    format: Format,
    cache: RwLock<HashMap<u32, Result<Arc<Schema>, String>>>,
    shutdown: CancellationToken,
    /// Delays between rounds of attempts while the registry is down.
    min_delay: Duration,
    max_delay: Duration,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("urls", &self.urls.iter().map(Url::as_str).collect::<Vec<_>>()).finish()
    }
}

/// Why one attempt did not give an answer about the schema.
enum Attempt {
    /// Retrying may help (the registry is down, overloaded, or refuses the credentials).
    Unavailable(String),
    /// The registry answered: this id cannot be read.
    Bad(String),
}

impl Registry {
    pub fn new(settings: &RegistrySettings, format: Format, shutdown: CancellationToken) -> Result<Registry, String> {
        let urls = settings
            .urls
            .iter()
            .map(|u| Url::parse(u).map_err(|e| format!("schema registry URL {u}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot create the schema registry client: {e}"))?;
        Ok(Registry {
            client,
            urls,
            auth: settings.basic_auth.clone(),
            format,
            cache: RwLock::new(HashMap::new()),
            shutdown,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        })
    }

    /// Shorter waits between attempts (tests).
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Registry {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    fn cached(&self, id: u32) -> Option<Result<Arc<Schema>, String>> {
        self.cache.read().ok()?.get(&id).cloned()
    }

    /// The writer schema of `id`: cached, or fetched (waiting while the registry is down).
    pub async fn schema(&self, id: u32) -> Lookup {
        if let Some(hit) = self.cached(id) {
            return match hit {
                Ok(s) => Lookup::Found(s),
                Err(e) => Lookup::Bad(e),
            };
        }
        let mut delay = self.min_delay;
        let mut round = 0u32;
        loop {
            if self.shutdown.is_cancelled() {
                return Lookup::Interrupted;
            }
            round += 1;
            let mut last = String::new();
            for base in &self.urls {
                match self.fetch(base, id).await {
                    Ok((text, references)) => {
                        if round > 1 {
                            info!(registry = %base, schema_id = id, "schema registry reachable again");
                        }
                        let format = self.format;
                        let parsed = parse_isolated(format, text, references).await.map(Arc::new).map_err(|e| {
                            format!("Schema {id} from the schema registry is not {}: {e}", format.described())
                        });
                        if let Ok(mut cache) = self.cache.write() {
                            cache.insert(id, parsed.clone());
                        }
                        return match parsed {
                            Ok(s) => Lookup::Found(s),
                            Err(e) => Lookup::Bad(e),
                        };
                    }
                    Err(Attempt::Bad(reason)) => return Lookup::Bad(reason),
                    Err(Attempt::Unavailable(reason)) => last = reason,
                }
            }
            let jittered = delay.mul_f64(0.5 + rand::random::<f64>() / 2.0);
            if round == 1 || round.is_multiple_of(10) {
                let hint = if last.contains("HTTP 401") || last.contains("HTTP 403") {
                    " (check basic.auth.credentials.source and basic.auth.user.info)"
                } else {
                    ""
                };
                error!(
                    schema_id = id,
                    attempt = round,
                    "schema registry unavailable, records wait and are retried in {jittered:?}: {last}{hint}"
                );
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return Lookup::Interrupted,
                _ = tokio::time::sleep(jittered) => {}
            }
            delay = (delay * 2).min(self.max_delay);
        }
    }

    /// The schema text of `id` and the schemas it references, those referred to first.
    async fn fetch(&self, base: &Url, id: u32) -> Result<(String, Vec<Reference>), Attempt> {
        let url = endpoint(base, &["schemas", "ids", &id.to_string()])?;
        let body = match self.get(&url).await? {
            Ok(body) => body,
            Err((StatusCode::NOT_FOUND, detail)) => {
                return Err(Attempt::Bad(format!("Schema {id} not found in the schema registry ({detail})")));
            }
            Err((_, detail)) => return Err(Attempt::Bad(format!("Schema {id} cannot be read: {detail}"))),
        };
        let text = self.schema_text(&body, id)?;
        let mut references = Vec::new();
        let mut pending: Vec<Value> = refs_of(&body);
        let mut seen = std::collections::HashSet::new();
        while let Some(r) = pending.pop() {
            let name = r.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let (Some(subject), Some(version)) = (r.get("subject").and_then(Value::as_str), r.get("version")) else {
                return Err(Attempt::Bad(format!("Schema {id} has a malformed reference: {r}")));
            };
            let version = match version {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return Err(Attempt::Bad(format!("Schema {id} has a malformed reference: {r}"))),
            };
            if !seen.insert((subject.to_string(), version.clone())) {
                continue;
            }
            if seen.len() > MAX_REFERENCES {
                return Err(Attempt::Bad(format!("Schema {id} has more than {MAX_REFERENCES} references")));
            }
            let url = endpoint(base, &["subjects", subject, "versions", &version])?;
            let body = match self.get(&url).await? {
                Ok(body) => body,
                Err((_, detail)) => {
                    return Err(Attempt::Bad(format!(
                        "Schema {id} refers to subject {subject} version {version}, which cannot be read: {detail}"
                    )));
                }
            };
            references.push(Reference { name, text: self.schema_text(&body, id)? });
            pending.extend(refs_of(&body));
        }
        // Referenced schemas must come before those that use them.
        references.reverse();
        Ok((text, references))
    }

    /// One GET. `Err(Unavailable)` when retrying may help; `Ok(Err((status, detail)))` for a
    /// definite answer other than 200.
    async fn get(&self, url: &Url) -> Result<Result<Value, (StatusCode, String)>, Attempt> {
        let mut request =
            self.client.get(url.clone()).header("Accept", "application/vnd.schemaregistry.v1+json, application/json");
        if let Some((user, password)) = &self.auth {
            request = request.basic_auth(user, Some(password));
        }
        let mut response =
            request.send().await.map_err(|e| Attempt::Unavailable(format!("GET {url}: {}", error_chain(&e))))?;
        let status = response.status();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                        return Err(Attempt::Unavailable(format!(
                            "GET {url}: answer larger than {MAX_RESPONSE_BYTES} bytes"
                        )));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(Attempt::Unavailable(format!("GET {url}: {}", error_chain(&e)))),
            }
        }
        let parsed: Option<Value> = serde_json::from_slice(&body).ok();
        if status == StatusCode::OK {
            return match parsed {
                Some(v) => Ok(Ok(v)),
                None => Err(Attempt::Unavailable(format!("GET {url}: HTTP 200 with a body that is not JSON"))),
            };
        }
        let detail = match &parsed {
            Some(v) => format!(
                "HTTP {}{}{}",
                status.as_u16(),
                v.get("error_code").map(|c| format!(", error_code {c}")).unwrap_or_default(),
                v.get("message").and_then(Value::as_str).map(|m| format!(": {m}")).unwrap_or_default()
            ),
            None => format!("HTTP {}", status.as_u16()),
        };
        let retryable = status.is_server_error()
            || matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::REQUEST_TIMEOUT
                    | StatusCode::UNAUTHORIZED
                    | StatusCode::FORBIDDEN
            );
        if retryable {
            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                warn!(registry = %url, "schema registry refused the credentials: {detail}");
            }
            return Err(Attempt::Unavailable(format!("GET {url}: {detail}")));
        }
        Ok(Err((status, detail)))
    }
}

fn endpoint(base: &Url, segments: &[&str]) -> Result<Url, Attempt> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|_| Attempt::Bad(format!("schema registry URL {base} cannot have a path")))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

impl Registry {
    /// The `schema` text of an answer, which must be of the converter's schema type.
    fn schema_text(&self, body: &Value, id: u32) -> Result<String, Attempt> {
        let wanted = self.format.schema_type();
        let found = body.get("schemaType").and_then(Value::as_str).unwrap_or("AVRO");
        if found != wanted {
            return Err(Attempt::Bad(format!(
                "Schema {id} has schemaType {found}; the {} reads {wanted} schemas only",
                self.format.converter()
            )));
        }
        match body.get("schema") {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(Attempt::Bad(format!("The schema registry's answer for schema {id} has no \"schema\" text"))),
        }
    }
}

/// Stack of the thread that parses a schema: parsers recurse over the schema's nesting, and a
/// schema is not trusted to be shallow.
const PARSER_STACK_BYTES: usize = 64 << 20;

/// Parses (compiles) a schema on a thread of its own with a large stack; a panic in a parser is
/// an error of that schema, not of the sink.
async fn parse_isolated(format: Format, text: String, references: Vec<Reference>) -> Result<Schema, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned =
        std::thread::Builder::new().name("schema-parser".into()).stack_size(PARSER_STACK_BYTES).spawn(move || {
            let result = std::panic::catch_unwind(|| parse(format, &text, &references))
                .unwrap_or_else(|_| Err("the schema parser failed on this schema".to_string()));
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(format!("cannot start the schema parser: {e}"));
    }
    rx.await.unwrap_or_else(|_| Err("the schema parser failed on this schema".to_string()))
}

fn refs_of(body: &Value) -> Vec<Value> {
    match body.get("references") {
        Some(Value::Array(refs)) => refs.clone(),
        _ => Vec::new(),
    }
}

/// An error with its causes (reqwest's own message is often just "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A test double of a registry: answers each request with the next scripted response.
    async fn serve(responses: Vec<(u16, String)>) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (h, r) = (hits.clone(), requests.clone());
        tokio::spawn(async move {
            let mut responses = responses.into_iter();
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                r.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).to_string());
                h.fetch_add(1, Ordering::SeqCst);
                let (status, body) = responses.next().unwrap_or((500, "{}".into()));
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            }
        });
        (url, hits, requests)
    }

    fn registry(url: &str, auth: Option<(&str, &str)>) -> Registry {
        let settings = RegistrySettings {
            urls: vec![url.to_string()],
            basic_auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
        };
        Registry::new(&settings, Format::Avro, CancellationToken::new())
            .unwrap()
            .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
    }

    const INT_SCHEMA: &str = r#"{"schema":"\"int\""}"#;

    #[tokio::test]
    async fn fetched_once_per_id_then_cached() {
        let (url, hits, requests) = serve(vec![(200, INT_SCHEMA.into())]).await;
        let r = registry(&format!("{url}/apis/ccompat/v7"), Some(("u", "p")));
        assert!(matches!(r.schema(7).await, Lookup::Found(_)));
        assert!(matches!(r.schema(7).await, Lookup::Found(_)));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        let req = requests.lock().unwrap()[0].clone();
        assert!(req.starts_with("GET /apis/ccompat/v7/schemas/ids/7 HTTP/1.1"), "{req}");
        assert!(req.contains("authorization: Basic dTpw"), "{req}");
    }

    #[tokio::test]
    async fn unknown_ids_and_non_avro_schemas_are_the_records_fault() {
        let (url, _, _) = serve(vec![
            (404, r#"{"error_code":40403,"message":"Schema not found"}"#.into()),
            (200, r#"{"schemaType":"PROTOBUF","schema":"syntax = \"proto3\";"}"#.into()),
            (200, r#"{"schema":"{\"type\":\"nope\"}"}"#.into()),
        ])
        .await;
        let r = registry(&url, None);
        let Lookup::Bad(e) = r.schema(1).await else { panic!() };
        assert_eq!(e, "Schema 1 not found in the schema registry (HTTP 404, error_code 40403: Schema not found)");
        let Lookup::Bad(e) = r.schema(2).await else { panic!() };
        assert!(e.contains("PROTOBUF"), "{e}");
        let Lookup::Bad(e) = r.schema(3).await else { panic!() };
        assert!(e.contains("not a valid Avro schema"), "{e}");
        let Lookup::Bad(again) = r.schema(3).await else { panic!() };
        assert_eq!(e, again, "a schema that does not parse is cached as such");
    }

    #[tokio::test]
    async fn a_registry_that_is_down_is_retried_until_it_answers() {
        let (url, hits, _) =
            serve(vec![(503, "{}".into()), (401, "{}".into()), (500, "oops".into()), (200, INT_SCHEMA.into())]).await;
        let r = registry(&url, None);
        assert!(matches!(r.schema(1).await, Lookup::Found(_)));
        assert_eq!(hits.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn unreachable_then_shutdown_interrupts() {
        // A port nothing listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let shutdown = CancellationToken::new();
        let settings = RegistrySettings { urls: vec![url], basic_auth: None };
        let r = Registry::new(&settings, Format::Avro, shutdown.clone())
            .unwrap()
            .with_backoff(Duration::from_millis(5), Duration::from_millis(10));
        let stop = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            stop.cancel();
        });
        assert!(matches!(r.schema(1).await, Lookup::Interrupted));
    }

    #[tokio::test]
    async fn fails_over_to_the_next_url_and_follows_references() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let addr = r#"{\"type\":\"record\",\"name\":\"Addr\",\"fields\":[{\"name\":\"zip\",\"type\":\"int\"}]}"#;
        let (url, _, requests) = serve(vec![
            (
                200,
                r#"{"schema":"{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"a\",\"type\":\"Addr\"}]}","references":[{"name":"Addr","subject":"addr value","version":3}]}"#.into(),
            ),
            (200, format!(r#"{{"subject":"addr value","version":3,"id":9,"schema":"{addr}"}}"#)),
        ])
        .await;
        let settings = RegistrySettings { urls: vec![dead, url], basic_auth: None };
        let r = Registry::new(&settings, Format::Avro, CancellationToken::new()).unwrap();
        let Lookup::Found(s) = r.schema(5).await else { panic!() };
        assert!(matches!(s.avro().map(AvroSchema::root), Some(apache_avro::Schema::Record(_))));
        let reqs = requests.lock().unwrap();
        assert!(reqs[1].starts_with("GET /subjects/addr%20value/versions/3 "), "{}", reqs[1]);
    }

    #[tokio::test]
    async fn protobuf_and_json_schemas_with_named_references() {
        let (url, _, requests) = serve(vec![
            (
                200,
                r#"{"schemaType":"PROTOBUF","schema":"syntax = \"proto3\"; import \"a/addr.proto\"; message P { Addr a = 1; }","references":[{"name":"a/addr.proto","subject":"addr","version":1}]}"#.into(),
            ),
            (200, r#"{"subject":"addr","version":1,"id":9,"schemaType":"PROTOBUF","schema":"syntax = \"proto3\"; message Addr { int32 zip = 1; }"}"#.into()),
            (200, r#"{"schema":"{\"type\":\"int\"}"}"#.into()),
            (200, r#"{"schemaType":"PROTOBUF","schema":"syntax = \"proto3\"; message {"}"#.into()),
        ])
        .await;
        let settings = RegistrySettings { urls: vec![url], basic_auth: None };
        let r = Registry::new(&settings, Format::Protobuf, CancellationToken::new()).unwrap();
        let Lookup::Found(s) = r.schema(1).await else { panic!() };
        let Schema::Protobuf(p) = &*s else { panic!() };
        assert_eq!(p.message(&[0]).unwrap().full_name(), "P");
        assert!(requests.lock().unwrap()[1].starts_with("GET /subjects/addr/versions/1 "));
        let Lookup::Bad(e) = r.schema(2).await else { panic!() };
        assert_eq!(e, "Schema 2 has schemaType AVRO; the ProtobufConverter reads PROTOBUF schemas only");
        let Lookup::Bad(e) = r.schema(3).await else { panic!() };
        assert!(e.starts_with("Schema 3 from the schema registry is not a valid Protobuf schema: "), "{e}");

        let (url, _, _) = serve(vec![
            (200, r#"{"schemaType":"JSON","schema":"{\"type\":\"object\"}"}"#.into()),
            (200, r#"{"schemaType":"PROTOBUF","schema":"x"}"#.into()),
        ])
        .await;
        let settings = RegistrySettings { urls: vec![url], basic_auth: None };
        let r = Registry::new(&settings, Format::Json, CancellationToken::new()).unwrap();
        assert!(matches!(r.schema(1).await, Lookup::Found(s) if matches!(*s, Schema::Json(_))));
        let Lookup::Bad(e) = r.schema(2).await else { panic!() };
        assert!(e.contains("the JsonSchemaConverter reads JSON schemas only"), "{e}");
    }

    #[test]
    fn framing() {
        assert_eq!(frame(&[0, 0, 0, 1, 2, 9], "x"), Ok((258, &[9u8][..])));
        assert!(frame(&[], "JSON text").unwrap_err().ends_with("4-byte schema id, JSON text)"));
        assert!(frame(&[7], "x").unwrap_err().starts_with("Unknown magic byte 0x07"));
        assert!(frame(&[0, 1], "x").unwrap_err().contains("too short"));
    }
}
