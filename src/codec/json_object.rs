//! A JSON object read without building a tree: one validating pass finds where each top-level
//! member sits in the object's text, and a mapped field is read in place from there.
//!
//! Plain strings and numbers stay slices of the text ([`Datum::JsonStr`], [`Datum::JsonNum`]);
//! only nested objects and arrays, strings with escapes and numbers with exponents become
//! `serde_json` values, parsed when the object is scanned. Anything the pass does not accept is
//! left to `serde_json` by the caller, so what is valid and what each error says stay serde_json's.

use serde_json::{Map, Value};

use super::Datum;

/// A decoded JSON object: its text and its top-level members in the order written.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonObject {
    text: String,
    members: Vec<Member>,
    /// Member indexes sorted by key (then position), for objects too wide to search in order.
    sorted: Option<Box<[u32]>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Member {
    key: Key,
    item: Item,
}

/// Where a slice of the text starts and ends.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, PartialEq)]
enum Key {
    /// A key without escapes, as written.
    At(Span),
    /// A key with escapes, unescaped.
    Owned(Box<str>),
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// A string without escapes: its content.
    Str(Span),
    /// A number without exponent, as written (as `serde_json` keeps it).
    Num(Span),
    Bool(bool),
    Null,
    Node(Value),
}

/// Objects with more members than this are searched through a sorted index.
const LINEAR_MEMBERS: usize = 16;

static NULL: Value = Value::Null;
static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

impl JsonObject {
    /// `text` read as one JSON object (whitespace around it allowed); `None` when it is not one,
    /// or not valid JSON, or written in a way left to `serde_json`.
    pub fn parse(text: &str) -> Option<JsonObject> {
        let len = u32::try_from(text.len()).ok()?;
        let mut scan = Scan { text, i: 0 };
        let members = scan.object()?;
        scan.ws();
        if scan.i != len as usize {
            return None;
        }
        Some(JsonObject::new(text.to_owned(), members))
    }

    /// An object already parsed by `serde_json`, with the text it stands for.
    pub fn from_map(fields: Map<String, Value>, text: String) -> JsonObject {
        let members = fields
            .into_iter()
            .map(|(k, v)| Member { key: Key::Owned(k.into_boxed_str()), item: Item::Node(v) })
            .collect();
        JsonObject::new(text, members)
    }

    /// An object without members, written as `text` (`""` or `{}`).
    pub fn empty(text: String) -> JsonObject {
        JsonObject { text, members: Vec::new(), sorted: None }
    }

    fn new(text: String, members: Vec<Member>) -> JsonObject {
        let mut object = JsonObject { text, members, sorted: None };
        if object.members.len() > LINEAR_MEMBERS {
            let mut order: Vec<u32> = (0..object.members.len() as u32).collect();
            // Stable: equal keys keep their order, so the last one written sorts last.
            order.sort_by(|a, b| object.key(*a as usize).cmp(object.key(*b as usize)));
            object.sorted = Some(order.into_boxed_slice());
        }
        object
    }

    /// The object's text, as decoded (what a mapping of the whole key or value reads).
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn slice(&self, span: Span) -> &str {
        self.text.get(span.start as usize..span.end as usize).unwrap_or("")
    }

    fn key(&self, index: usize) -> &str {
        match self.members.get(index).map(|m| &m.key) {
            Some(Key::At(span)) => self.slice(*span),
            Some(Key::Owned(k)) => k,
            None => "",
        }
    }

    /// The member named `name`; the last one when the name is written twice (as `serde_json`,
    /// and Jackson, read it).
    fn member(&self, name: &str) -> Option<&Item> {
        let index = match &self.sorted {
            None => (0..self.members.len()).rev().find(|&i| self.key(i) == name)?,
            Some(order) => {
                let after = order.partition_point(|&i| self.key(i as usize) <= name);
                let last = *order.get(after.checked_sub(1)?)? as usize;
                if self.key(last) != name {
                    return None;
                }
                last
            }
        };
        self.members.get(index).map(|m| &m.item)
    }

    /// The value of member `name`.
    pub fn get(&self, name: &str) -> Option<Datum<'_>> {
        self.member(name).map(|item| match item {
            Item::Str(span) => Datum::JsonStr(self.slice(*span)),
            Item::Num(span) => Datum::JsonNum(self.slice(*span)),
            Item::Bool(true) => Datum::Json(&TRUE),
            Item::Bool(false) => Datum::Json(&FALSE),
            Item::Null => Datum::Json(&NULL),
            Item::Node(v) => Datum::Json(v),
        })
    }

    /// Member `name` when it is an object.
    pub fn object(&self, name: &str) -> Option<&Map<String, Value>> {
        match self.member(name) {
            Some(Item::Node(Value::Object(inner))) => Some(inner),
            _ => None,
        }
    }
}

/// The validating pass over an object's text.
struct Scan<'a> {
    text: &'a str,
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.i += 1)
    }

    fn span(&self, start: usize) -> Span {
        // The text is shorter than u32::MAX (checked by `parse`).
        Span { start: start as u32, end: self.i as u32 }
    }

    fn object(&mut self) -> Option<Vec<Member>> {
        self.ws();
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(Vec::new());
        }
        let mut members = Vec::with_capacity(8);
        loop {
            self.ws();
            let key = match self.string()? {
                Ok(span) => Key::At(span),
                Err(Value::String(k)) => Key::Owned(k.into_boxed_str()),
                Err(_) => return None,
            };
            self.ws();
            self.eat(b':')?;
            self.ws();
            let item = self.item()?;
            members.push(Member { key, item });
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(members);
                }
                _ => return None,
            }
        }
    }

    fn item(&mut self) -> Option<Item> {
        Some(match self.peek()? {
            b'"' => match self.string()? {
                Ok(span) => Item::Str(span),
                Err(v) => Item::Node(v),
            },
            b'-' | b'0'..=b'9' => self.number()?,
            b't' => self.literal("true", Item::Bool(true))?,
            b'f' => self.literal("false", Item::Bool(false))?,
            b'n' => self.literal("null", Item::Null)?,
            b'{' | b'[' => {
                let rest = self.text.get(self.i..)?;
                let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
                let v = stream.next()?.ok()?;
                self.i += stream.byte_offset();
                Item::Node(v)
            }
            _ => return None,
        })
    }

    fn literal(&mut self, word: &str, item: Item) -> Option<Item> {
        let end = self.i + word.len();
        (self.text.as_bytes().get(self.i..end)? == word.as_bytes()).then(|| {
            self.i = end;
            item
        })
    }

    /// A string at `"`: its content's span when it has no escapes, else its value.
    fn string(&mut self) -> Option<Result<Span, Value>> {
        let open = self.i;
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let hex = self.text.as_bytes().get(self.i + 1..self.i + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 5;
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1f => return None,
                _ => self.i += 1,
            }
        }
        let content = self.span(start);
        self.i += 1;
        if !escaped {
            return Some(Ok(content));
        }
        // Escapes (surrogate pairs included) are serde_json's to read.
        let quoted = self.text.get(open..self.i)?;
        serde_json::from_str::<Value>(quoted).ok().map(Err)
    }

    /// A number; one with an exponent is `serde_json`'s (it writes those as `1e+5`).
    fn number(&mut self) -> Option<Item> {
        let start = self.i;
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            let first = self.i;
            self.digits();
            if self.i == first {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            let first = self.i;
            self.digits();
            if self.i == first {
                return None;
            }
            let written = self.text.get(start..self.i)?;
            return serde_json::from_str::<Value>(written).ok().map(Item::Node);
        }
        Some(Item::Num(self.span(start)))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `serde_json` makes of `text`, as the datum a member lookup gives.
    fn reference(text: &str) -> Option<Map<String, Value>> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(fields)) => Some(fields),
            _ => None,
        }
    }

    /// A datum as the JSON node it stands for.
    fn node(d: Datum<'_>) -> Value {
        match d {
            Datum::JsonStr(s) => Value::String(s.to_owned()),
            Datum::JsonNum(n) => serde_json::from_str(n).expect("a number as written"),
            Datum::Json(v) => v.clone(),
            other => panic!("not a JSON datum: {other:?}"),
        }
    }

    /// Every member reads as `serde_json` reads it, and nothing else is found.
    fn agrees(text: &str) {
        let fields = reference(text).expect("a JSON object");
        let object = JsonObject::parse(text).unwrap_or_else(|| panic!("not read: {text}"));
        assert_eq!(object.is_empty(), fields.is_empty(), "{text}");
        for (k, v) in &fields {
            assert_eq!(object.get(k).map(node).as_ref(), Some(v), "member {k:?} of {text}");
        }
        assert!(object.get("absent member").is_none());
    }

    #[test]
    fn members_read_as_serde_json_reads_them() {
        for text in [
            "{}",
            " { } ",
            r#"{"symbol":"ACME","datetime":"2026-01-01T00:00:00.000Z","value":12.5,"n":-3,"z":0,"m":-0}"#,
            r#"{"a":true,"b":false,"c":null,"d":{"e":[1,2,{"f":"g"}]},"h":[]}"#,
            r#"{"esc\"aped":"line\nbreak \u00e9 \ud83d\ude00","plain":"caf\u00e9 ☕"}"#,
            r#"{"x":1e5,"y":1E-5,"w":2.5e+3,"big":123456789012345678901234567890.5}"#,
            "{\n\t\"spaced\" :\r\n \"out\" ,\"\":\"empty key\"}",
            r#"{"twice":1,"twice":2}"#,
        ] {
            agrees(text);
        }
    }

    #[test]
    fn wide_objects_are_searched_by_key() {
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!("\"f{}\":{i},", 99 - i));
        }
        text.push_str("\"f7\":\"last\"}");
        agrees(&text);
        let object = JsonObject::parse(&text).expect("an object");
        assert!(object.sorted.is_some());
        assert!(matches!(object.get("f7"), Some(Datum::JsonStr("last"))));
        assert!(matches!(object.get("f0"), Some(Datum::JsonNum("99"))));
        assert!(object.get("f100").is_none() && object.get("").is_none() && object.get("g").is_none());
    }

    #[test]
    fn plain_strings_and_numbers_are_read_in_place() {
        let object = JsonObject::parse(r#"{"s":"text","n":-12.50,"e":"a\tb"}"#).expect("an object");
        assert!(matches!(object.get("s"), Some(Datum::JsonStr("text"))));
        assert!(matches!(object.get("n"), Some(Datum::JsonNum("-12.50"))));
        assert!(matches!(object.get("e"), Some(Datum::Json(Value::String(s))) if s == "a\tb"));
    }

    #[test]
    fn anything_serde_json_refuses_is_refused() {
        for text in [
            "",
            "{",
            "[]",
            "\"{}\"",
            "{} x",
            "{}{}",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":1e}"#,
            r#"{"a":tru}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":[1,}"#,
            r#"{"a":"unterminated}"#,
            r#"{"a":1 "b":2}"#,
        ] {
            assert!(JsonObject::parse(text).is_none(), "accepted {text:?}");
            assert!(reference(text).is_none(), "serde_json reads {text:?}");
        }
    }

    #[test]
    fn nested_objects_are_reachable() {
        let object = JsonObject::parse(r#"{"a":{"b":{"c":1}},"s":"x"}"#).expect("an object");
        assert_eq!(object.object("a").and_then(|a| a.get("b")), Some(&serde_json::json!({"c": 1})));
        assert!(object.object("s").is_none() && object.object("z").is_none());
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let text = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(JsonObject::parse(&text).is_none());
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            "[a-z\"\\\\\n\t\u{1}é]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z\"é]{0,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_object_serde_json_writes_reads_back(
            fields in prop::collection::btree_map("[a-z.\"\\\\é]{0,4}", json_value(), 0..8),
            pretty in any::<bool>(),
        ) {
            let v = Value::Object(fields.into_iter().collect());
            let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) };
            agrees(&text.expect("writes"));
        }

        #[test]
        fn any_text_is_read_exactly_when_serde_json_reads_an_object(text in "[{}\\[\\]\":,a-c0-9.eE+\\- ]{0,24}") {
            prop_assert_eq!(JsonObject::parse(&text).is_some(), reference(&text).is_some(), "{:?}", text);
        }
    }
}
