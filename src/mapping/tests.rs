//! Golden tests (expected texts checked against the reference connector's generated ANTLR 4.7.1
//! parser) and property tests for the mapping language.

use proptest::prelude::*;

use super::*;

fn named(name: &str) -> Column {
    Column::Named(name.to_owned())
}

fn value(path: &str) -> Field {
    Field::Value(FieldPath::Named(path.to_owned()))
}

fn key(path: &str) -> Field {
    Field::Key(FieldPath::Named(path.to_owned()))
}

fn entry(column: Column, field: Field) -> MappingEntry {
    MappingEntry { column, field }
}

fn ok(input: &str) -> Vec<MappingEntry> {
    match parse(input) {
        Ok(mapping) => mapping.entries,
        Err(error) => panic!("{input:?} should parse, got {error}"),
    }
}

/// The full error text the config layer puts after the setting name.
fn error(input: &str) -> String {
    match parse(input) {
        Ok(mapping) => panic!("{input:?} should fail, parsed as {mapping:?}"),
        Err(error) => error.to_string(),
    }
}

fn invalid_field(name: &str) -> String {
    format!(
        "Invalid field name '{name}': field names in mapping must be 'key', 'value', or start with \
         'key.' or 'value.' or 'header.', or be one of supported functions: '[now()]'."
    )
}

// ---------------------------------------------------------------------------------------------
// Valid mappings (spec §2.1, §2.2)
// ---------------------------------------------------------------------------------------------

#[test]
fn reference_table_config_example() {
    let input = "a=key.b, first = value.good, \"jack\"=\"value.bill\",third=key.great, c1=key, \
                 \"This has spaces, \"\", and commas\" = \"value.me, \"\" too\", d1=value, \
                 e1=header.e";
    assert_eq!(
        ok(input),
        vec![
            entry(named("a"), key("b")),
            entry(named("first"), value("good")),
            entry(named("jack"), value("bill")),
            entry(named("third"), key("great")),
            entry(named("c1"), Field::Key(FieldPath::Whole)),
            entry(named("This has spaces, \", and commas"), value("me, \" too")),
            entry(named("d1"), Field::Value(FieldPath::Whole)),
            entry(named("e1"), Field::Header("e".to_owned())),
        ]
    );
}

#[test]
fn brief_example() {
    assert_eq!(
        ok("col1=value.f1, col2=key, \"Col 3\"=header.h, c4=now()"),
        vec![
            entry(named("col1"), value("f1")),
            entry(named("col2"), Field::Key(FieldPath::Whole)),
            entry(named("Col 3"), Field::Header("h".to_owned())),
            entry(named("c4"), Field::Now),
        ]
    );
}

#[test]
fn unquoted_columns_are_case_sensitive_literals() {
    assert_eq!(ok("bigintCol=value.bigint"), vec![entry(named("bigintCol"), value("bigint"))]);
}

#[test]
fn pseudo_columns_only_when_unquoted() {
    assert_eq!(
        ok("__ttl=value.t, __timestamp=value.ts, \"__ttl\"=value.x, \"__timestamp\"=value.y"),
        vec![
            entry(Column::Ttl, value("t")),
            entry(Column::Timestamp, value("ts")),
            entry(named("__ttl"), value("x")),
            entry(named("__timestamp"), value("y")),
        ]
    );
    assert_eq!(Column::Ttl.name(), "__ttl");
    assert_eq!(Column::Timestamp.name(), "__timestamp");
    assert_eq!(named("__ttl").name(), "__ttl");
    // Pseudo-column names are case-sensitive too.
    assert_eq!(ok("__TTL=value.t"), vec![entry(named("__TTL"), value("t"))]);
}

#[test]
fn same_field_may_feed_several_columns() {
    assert_eq!(
        ok("doublecol=value.double, __ttl=value.double"),
        vec![entry(named("doublecol"), value("double")), entry(Column::Ttl, value("double"))]
    );
}

#[test]
fn quoted_identifiers_unescape_doubled_quotes() {
    assert_eq!(ok("\"a\"\"b\"=key"), vec![entry(named("a\"b"), Field::Key(FieldPath::Whole))]);
    assert_eq!(ok("\"\"\"\"=key"), vec![entry(named("\""), Field::Key(FieldPath::Whole))]);
    assert_eq!(ok("\"x\"=\"value.\"\"q\"\"\""), vec![entry(named("x"), value("\"q\""))]);
    // Anything but a lone quote may appear inside, line breaks and non-ASCII included.
    assert_eq!(ok("\"é\n💥,=\"=\"key.k\tk\""), vec![entry(named("é\n💥,="), key("k\tk"))]);
}

#[test]
fn field_path_after_prefix_is_one_literal_name() {
    assert_eq!(ok("c=\"value.TEXT.FIELD\""), vec![entry(named("c"), value("TEXT.FIELD"))]);
    assert_eq!(ok("c=value.a.b"), vec![entry(named("c"), value("a.b"))]);
    assert_eq!(ok("c=value..x"), vec![entry(named("c"), value(".x"))]);
    assert_eq!(ok("c=key."), vec![entry(named("c"), key(""))]);
    assert_eq!(ok("c=header."), vec![entry(named("c"), Field::Header(String::new()))]);
    assert_eq!(ok("c=\"key\""), vec![entry(named("c"), Field::Key(FieldPath::Whole))]);
    // Only the prefix is case-sensitive: `Value.x` is not a value field.
    assert_eq!(error("c=Value.x"), semantic(&[&invalid_field("Value.x")]));
}

#[test]
fn field_tokens_are_concatenated_without_whitespace() {
    assert_eq!(ok("c = value . f1"), vec![entry(named("c"), value("f1"))]);
    assert_eq!(ok("c=value.f1 x"), vec![entry(named("c"), value("f1x"))]);
    assert_eq!(ok("c=value\n.\nf1"), vec![entry(named("c"), value("f1"))]);
}

#[test]
fn now_function() {
    assert_eq!(ok("c=now()"), vec![entry(named("c"), Field::Now)]);
    assert_eq!(ok("c=now( )"), vec![entry(named("c"), Field::Now)]);
    assert_eq!(ok("c = now ( )"), vec![entry(named("c"), Field::Now)]);
    // Quirk kept from the reference: the quoted text `now()` is the function as well.
    assert_eq!(ok("c=\"now()\""), vec![entry(named("c"), Field::Now)]);
    assert_eq!(ok("a=now(), b=now()"), vec![entry(named("a"), Field::Now), entry(named("b"), Field::Now)]);
}

#[test]
fn function_syntax_after_a_prefix_is_a_field_name() {
    // The reference checks only the text's prefix, so this reads a field literally named `f()`.
    assert_eq!(ok("c=value.f()"), vec![entry(named("c"), value("f()"))]);
}

// ---------------------------------------------------------------------------------------------
// Semantic errors
// ---------------------------------------------------------------------------------------------

fn semantic(errors: &[&str]) -> String {
    format!("Encountered the following errors:\n{}", errors.join("\n  "))
}

#[test]
fn duplicate_column() {
    assert_eq!(
        error("c1=value.f1, c1=value.f2"),
        "Encountered the following errors:\nMapping already defined for column 'c1'"
    );
    assert_eq!(
        parse("c1=value.f1, c1=value.f2"),
        Err(MappingError::Semantic(vec!["Mapping already defined for column 'c1'".to_owned()]))
    );
    // Each repetition is reported; a quoted name equal to an unquoted one is the same column.
    assert_eq!(
        error("c1=key, \"c1\"=value, c1=value.x"),
        semantic(&["Mapping already defined for column 'c1'", "Mapping already defined for column 'c1'"])
    );
    // The pseudo-column is named as written (the reference prints its bind-variable name).
    assert_eq!(error("__ttl=value.a, __ttl=value.b"), semantic(&["Mapping already defined for column '__ttl'"]));
    assert_eq!(ok("__ttl=value.a, \"__ttl\"=value.b").len(), 2);
}

#[test]
fn invalid_field_names() {
    assert_eq!(
        error("c1=f1"),
        "Encountered the following errors:\nInvalid field name 'f1': field names in mapping must \
         be 'key', 'value', or start with 'key.' or 'value.' or 'header.', or be one of supported \
         functions: '[now()]'."
    );
    for field in ["header", "f1", "foo()", "NOW()", "now(x)", "x.now()", "keys", "value_x"] {
        assert_eq!(error(&format!("c={field}")), semantic(&[&invalid_field(field)]), "{field}");
    }
    // Inside a function the text is kept as written, quotes included.
    assert_eq!(error("c=\"now\"()"), semantic(&[&invalid_field("\"now\"()")]));
    // A quoted field is shown unquoted.
    assert_eq!(error("c=\"a \"\" b\""), semantic(&[&invalid_field("a \" b")]));
}

#[test]
fn all_semantic_errors_are_collected_in_entry_order() {
    assert_eq!(
        error("c1=f1, c1=header, c2=foo(), c3=NOW()"),
        semantic(&[
            &invalid_field("f1"),
            "Mapping already defined for column 'c1'",
            &invalid_field("header"),
            &invalid_field("foo()"),
            &invalid_field("NOW()"),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// Syntax errors: position and ANTLR message
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_syntax(input: &str, line: usize, column: usize, message: &str) {
    assert_eq!(parse(input), Err(MappingError::Syntax { line, column, message: message.to_owned() }), "{input:?}");
}

const IDENTS: &str = "{UNQUOTED_STRING, QUOTED_STRING}";

#[test]
fn spec_syntax_errors() {
    assert_syntax("", 1, 0, &format!("mismatched input '<EOF>' expecting {IDENTS}"));
    assert_syntax("\"\"", 1, 0, "token recognition error at: '\"\"'");
    assert_syntax("jack", 1, 4, "mismatched input '<EOF>' expecting '='");
    assert_syntax("jack=", 1, 5, &format!("mismatched input '<EOF>' expecting {IDENTS}"));
    assert_syntax("= value", 1, 0, &format!("extraneous input '=' expecting {IDENTS}"));
    assert_syntax("first = value.good, jack", 1, 24, "mismatched input '<EOF>' expecting '='");
    assert_syntax("first = value.good, = value", 1, 20, &format!("extraneous input '=' expecting {IDENTS}"));
    assert_eq!(error("jack"), "Could not be parsed at line 1:4: mismatched input '<EOF>' expecting '='");
    assert!(error("jack").ends_with("expecting '='"));
}

#[test]
fn entry_level_syntax_errors() {
    assert_syntax("a b", 1, 2, "missing '=' at 'b'");
    assert_syntax("c==value", 1, 2, &format!("extraneous input '=' expecting {IDENTS}"));
    assert_syntax("c=,", 1, 2, &format!("mismatched input ',' expecting {IDENTS}"));
    assert_syntax("c=value,", 1, 8, &format!("mismatched input '<EOF>' expecting {IDENTS}"));
    assert_syntax(",", 1, 0, &format!("mismatched input ',' expecting {IDENTS}"));
    assert_syntax("a=b,c=d,e", 1, 9, "mismatched input '<EOF>' expecting '='");
    assert_syntax("c=a \"x\"", 1, 4, "extraneous input '\"x\"' expecting {<EOF>, ','}");
    assert_syntax("c=a.b = d", 1, 6, "mismatched input '=' expecting {<EOF>, ','}");
    assert_syntax("c=a.(", 1, 4, "extraneous input '(' expecting {<EOF>, ','}");
    assert_syntax("c=x.y.z()", 1, 7, "mismatched input '(' expecting {<EOF>, ','}");
    assert_syntax("c=value.a)", 1, 9, "extraneous input ')' expecting {<EOF>, ','}");
    // After the first entry ANTLR reports the stray token without looking past it.
    assert_syntax("c1=value.a, c2=value.b)", 1, 22, "extraneous input ')' expecting {<EOF>, ','}");
}

#[test]
fn function_syntax_errors() {
    assert_syntax("c=now(", 1, 6, "no viable alternative at input 'now('");
    assert_syntax("c=now())", 1, 7, "extraneous input ')' expecting {<EOF>, ','}");
    assert_syntax("c=f(a", 1, 5, "missing ')' at '<EOF>'");
    assert_syntax("c=f(a b)", 1, 6, "extraneous input 'b' expecting ')'");
    assert_syntax("c=f(a x", 1, 6, "mismatched input 'x' expecting {',', ')'}");
    assert_syntax("c=f(a,)", 1, 6, &format!("missing {IDENTS} at ')'"));
    assert_syntax("c=\"a\".b", 1, 7, "no viable alternative at input '\"a\".b'");
    assert_syntax("c=value.\"x\"", 1, 11, "no viable alternative at input 'value.\"x\"'");
    // The quoted input keeps the whitespace between tokens, escaped.
    assert_syntax("c=now(\t,", 1, 7, "no viable alternative at input 'now(\\t,'");
}

#[test]
fn lexer_errors() {
    assert_syntax("jack x;", 1, 6, "token recognition error at: ';'");
    assert_syntax("cé=value", 1, 1, "token recognition error at: 'é'");
    assert_syntax("💥=value", 1, 0, "token recognition error at: '💥'");
    // Columns count characters, not bytes.
    assert_syntax("\"é\"=value.x, ü", 1, 13, "token recognition error at: 'ü'");
    // An unterminated quote shows everything up to the end, line breaks escaped.
    assert_syntax("c=\"ab\ncd", 1, 2, "token recognition error at: '\"ab\\ncd'");
    assert_syntax("c=\"", 1, 2, "token recognition error at: '\"'");
    // `""` cannot start a quoted identifier; the text runs to the offending character.
    assert_syntax("c=\"\"x\"", 1, 2, "token recognition error at: '\"\"x'");
    // The lexer backtracks to the last complete quoted token: `"a"` then a stray `"`.
    assert_syntax("c=\"a\"\"", 1, 5, "token recognition error at: '\"'");
}

#[test]
fn lexer_error_wins_when_the_parser_looks_that_far() {
    // "no viable alternative" makes ANTLR lex the whole input first.
    assert_syntax("c1=value.f1(, \r\n;", 2, 0, "token recognition error at: ';'");
    // Single-token deletion peeks one token further.
    assert_syntax("jack x;", 1, 6, "token recognition error at: ';'");
    // Otherwise an earlier parse error is reported first.
    assert_syntax("jack x y;", 1, 5, "missing '=' at 'x'");
}

#[test]
fn positions_across_lines() {
    assert_syntax("c1=value.f1,\n  c2 value.f2", 2, 5, "missing '=' at 'value'");
    // `\r` counts as a column; only `\n` starts a line.
    assert_syntax("c1=value.a,\r\nc2 =\r\n", 3, 0, &format!("mismatched input '<EOF>' expecting {IDENTS}"));
    assert_syntax("\tc1 =\tvalue.a ,", 1, 15, &format!("mismatched input '<EOF>' expecting {IDENTS}"));
    assert_eq!(
        ok("\r\n\tc1\n=\n\tvalue.a\r\n,\r\n\"C 2\"\t=\theader.h\n"),
        vec![entry(named("c1"), value("a")), entry(named("C 2"), Field::Header("h".to_owned()))]
    );
}

#[test]
fn syntax_error_display() {
    assert_eq!(
        MappingError::Syntax { line: 2, column: 5, message: "missing '=' at 'value'".to_owned() }.to_string(),
        "Could not be parsed at line 2:5: missing '=' at 'value'"
    );
}

// ---------------------------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------------------------

#[test]
fn huge_inputs_parse_without_deep_recursion() {
    let many = (0..50_000).map(|i| format!("c{i}=value.f{i}")).collect::<Vec<_>>().join(",");
    assert_eq!(ok(&many).len(), 50_000);

    let long_path = format!("c=value.{}", "a.".repeat(200_000));
    assert_eq!(ok(&long_path).len(), 1);

    let parens = format!("c=f({}", "(".repeat(200_000));
    assert!(matches!(parse(&parens), Err(MappingError::Syntax { .. })));

    let unterminated = format!("c=\"{}", "x".repeat(300_000));
    assert!(matches!(parse(&unterminated), Err(MappingError::Syntax { line: 1, column: 2, .. })));

    // Backtracks to the last complete quoted token; the final quote is left over.
    let escapes = format!("c=\"{}", "x\"\"".repeat(100_000));
    assert!(matches!(parse(&escapes), Err(MappingError::Syntax { line: 1, column: 300_002, .. })));
}

// ---------------------------------------------------------------------------------------------
// Accessors and rendering
// ---------------------------------------------------------------------------------------------

#[test]
fn field_display_names() {
    let cases = [
        (Field::Value(FieldPath::Whole), "value"),
        (Field::Key(FieldPath::Whole), "key"),
        (value("f1"), "value.f1"),
        (key("a.b"), "key.a.b"),
        (Field::Header("h".to_owned()), "header.h"),
        (Field::Now, "now()"),
    ];
    for (field, name) in cases {
        assert_eq!(field.display_name(), name);
        assert_eq!(field.to_string(), name);
    }
}

#[test]
fn field_path_segments() {
    assert!(FieldPath::Whole.segments().is_empty());
    assert_eq!(FieldPath::Named("a".to_owned()).segments(), ["a"]);
    assert_eq!(FieldPath::Named("a.b".to_owned()).segments(), ["a", "b"]);
    assert_eq!(FieldPath::Named("a..b".to_owned()).segments(), ["a", "", "b"]);
    assert_eq!(FieldPath::Named(String::new()).segments(), [""]);
}

#[test]
fn cql_identifiers() {
    assert_eq!(cql_ident("plain"), "plain");
    assert_eq!(cql_ident("abc_1"), "abc_1");
    assert_eq!(cql_ident("message_internal_ttl"), "message_internal_ttl");
    assert_eq!(cql_ident("bigintCol"), "\"bigintCol\"");
    assert_eq!(cql_ident("UPPER"), "\"UPPER\"");
    assert_eq!(cql_ident("select"), "\"select\"");
    assert_eq!(cql_ident("table"), "\"table\"");
    assert_eq!(cql_ident("with"), "\"with\"");
    // Not reserved, so not quoted.
    assert_eq!(cql_ident("ttl"), "ttl");
    assert_eq!(cql_ident("key"), "key");
    assert_eq!(cql_ident("C 3"), "\"C 3\"");
    assert_eq!(cql_ident("with space"), "\"with space\"");
    assert_eq!(cql_ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(cql_ident("1abc"), "\"1abc\"");
    assert_eq!(cql_ident("_x"), "\"_x\"");
    assert_eq!(cql_ident("é"), "\"é\"");
    assert_eq!(cql_ident(""), "\"\"");
}

#[test]
fn mapping_display_is_canonical_text() {
    let mapping = Mapping {
        entries: vec![
            entry(named("c1"), value("f1")),
            entry(named("C 2"), Field::Key(FieldPath::Whole)),
            entry(Column::Ttl, value("t")),
            entry(named("__ttl"), Field::Header("h x".to_owned())),
            entry(named("q\""), value("a\"b")),
            entry(named("n"), Field::Now),
        ],
    };
    let text = mapping.to_string();
    assert_eq!(
        text,
        "c1=value.f1, \"C 2\"=key, __ttl=value.t, \"__ttl\"=\"header.h x\", \
         \"q\"\"\"=\"value.a\"\"b\", n=now()"
    );
    assert_eq!(parse(&text), Ok(mapping));
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn column_strategy() -> impl Strategy<Value = Column> {
    prop_oneof![
        Just(Column::Ttl),
        Just(Column::Timestamp),
        "[a-zA-Z0-9_]{1,8}".prop_map(Column::Named),
        any::<String>().prop_filter("non-empty", |s| !s.is_empty()).prop_map(Column::Named),
        Just(named("__ttl")),
    ]
}

fn path_strategy() -> impl Strategy<Value = FieldPath> {
    prop_oneof![
        Just(FieldPath::Whole),
        "[a-zA-Z0-9_.]{0,10}".prop_map(FieldPath::Named),
        any::<String>().prop_map(FieldPath::Named),
    ]
}

fn field_strategy() -> impl Strategy<Value = Field> {
    prop_oneof![
        path_strategy().prop_map(Field::Key),
        path_strategy().prop_map(Field::Value),
        any::<String>().prop_map(Field::Header),
        Just(Field::Now),
    ]
}

fn mapping_strategy() -> impl Strategy<Value = Mapping> {
    prop::collection::vec((column_strategy(), field_strategy()), 1..8).prop_map(|pairs| {
        let mut seen = HashSet::new();
        let entries = pairs
            .into_iter()
            .filter(|(column, _)| seen.insert(column.clone()))
            .map(|(column, field)| MappingEntry { column, field })
            .collect();
        Mapping { entries }
    })
}

proptest! {
    #[test]
    fn parse_never_panics(input in any::<String>()) {
        let _ = parse(&input);
    }

    #[test]
    fn parse_never_panics_on_grammar_like_text(
        input in "([a-z_]{1,3}|\"|\"\"|=|,|\\.|\\(|\\)|[ \t\r\n]|é|💥|;|key|value\\.|now\\(\\)){0,40}"
    ) {
        let _ = parse(&input);
    }

    #[test]
    fn syntax_error_positions_are_inside_the_input(input in any::<String>()) {
        if let Err(MappingError::Syntax { line, column, .. }) = parse(&input) {
            let lines: Vec<&str> = input.split('\n').collect();
            prop_assert!(line >= 1 && line <= lines.len());
            prop_assert!(column <= lines[line - 1].chars().count());
        }
    }

    #[test]
    fn rendered_mappings_parse_back_equal(mapping in mapping_strategy()) {
        let text = mapping.to_string();
        prop_assert_eq!(parse(&text), Ok(mapping), "{}", text);
    }
}
