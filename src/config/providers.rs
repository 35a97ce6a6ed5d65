//! Kafka Connect config providers: `${provider:[path:]key}` placeholders in settings are replaced
//! by secrets kept elsewhere, so files can be committed without them. The worker declares them:
//!
//! ```properties
//! config.providers=env,file,dir
//! config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
//! config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
//! config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
//! ```
//!
//! `${env:NAME}` reads an environment variable, `${file:/path/app.properties:key}` a key of a
//! properties file, `${dir:/path:name}` the content of a file in a directory. Placeholders of
//! undeclared providers stay as written, as in Kafka. Messages name the setting and the
//! placeholder, never the resolved value.

use std::collections::BTreeMap;
use std::path::Path;

use super::{ConfigError, Properties};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Env,
    File,
    Directory,
}

/// The providers a worker declares, by alias.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    by_alias: BTreeMap<String, Kind>,
}

impl Providers {
    pub fn from_worker(worker: &Properties) -> Result<Providers, ConfigError> {
        let mut by_alias = BTreeMap::new();
        let mut problems = Vec::new();
        let aliases = worker.get("config.providers").unwrap_or_default();
        for alias in aliases.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let key = format!("config.providers.{alias}.class");
            let kind = match worker.get(&key).map(str::trim) {
                Some("org.apache.kafka.common.config.provider.EnvVarConfigProvider") => Kind::Env,
                Some("org.apache.kafka.common.config.provider.FileConfigProvider") => Kind::File,
                Some("org.apache.kafka.common.config.provider.DirectoryConfigProvider") => Kind::Directory,
                Some(other) => {
                    problems.push(format!(
                        "Invalid value {other} for configuration {key}: supported: org.apache.kafka.common.config.provider.EnvVarConfigProvider, FileConfigProvider, DirectoryConfigProvider"
                    ));
                    continue;
                }
                None => {
                    problems.push(format!("Missing required configuration \"{key}\" for config provider {alias}"));
                    continue;
                }
            };
            by_alias.insert(alias.to_string(), kind);
        }
        if problems.is_empty() { Ok(Providers { by_alias }) } else { Err(ConfigError::new(problems)) }
    }

    /// Every setting with its placeholders replaced; all problems at once.
    pub fn resolve(&self, props: &Properties) -> Result<Properties, ConfigError> {
        let mut out = Properties::default();
        let mut problems = Vec::new();
        for (key, value) in props.iter() {
            match self.resolve_value(value) {
                Ok(v) => out.insert(key, v),
                Err(reason) => problems.push(format!("Invalid value for configuration {key}: {reason}")),
            }
        }
        if problems.is_empty() { Ok(out) } else { Err(ConfigError::new(problems)) }
    }

    fn resolve_value(&self, value: &str) -> Result<String, String> {
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let placeholder = &after[..end];
            match self.lookup(placeholder)? {
                Some(v) => out.push_str(&v),
                None => {
                    out.push_str("${");
                    out.push_str(placeholder);
                    out.push('}');
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `provider:[path:]key` → the value; `Ok(None)` when the provider is not declared.
    fn lookup(&self, placeholder: &str) -> Result<Option<String>, String> {
        let Some((alias, rest)) = placeholder.split_once(':') else { return Ok(None) };
        let Some(kind) = self.by_alias.get(alias) else { return Ok(None) };
        let (path, key) = match rest.rsplit_once(':') {
            Some((p, k)) => (p, k),
            None => ("", rest),
        };
        let shown = format!("${{{placeholder}}}");
        match kind {
            Kind::Env => {
                std::env::var(key).map(Some).map_err(|_| format!("{shown}: environment variable {key} is not set"))
            }
            Kind::File => {
                let props =
                    Properties::load(Path::new(path)).map_err(|e| format!("{shown}: {}", e.problems.join("; ")))?;
                props.get(key).map(|v| Some(v.to_string())).ok_or_else(|| format!("{shown}: {path} has no key {key}"))
            }
            Kind::Directory => {
                let file = Path::new(path).join(key);
                if key.contains('/') || key == ".." {
                    return Err(format!("{shown}: the file name may not leave the directory"));
                }
                std::fs::read_to_string(&file)
                    .map(Some)
                    .map_err(|e| format!("{shown}: cannot read {}: {e}", file.display()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn providers() -> Providers {
        Providers::from_worker(&Properties::from_pairs([
            ("config.providers", "env,file,dir"),
            ("config.providers.env.class", "org.apache.kafka.common.config.provider.EnvVarConfigProvider"),
            ("config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider"),
            ("config.providers.dir.class", "org.apache.kafka.common.config.provider.DirectoryConfigProvider"),
        ]))
        .unwrap()
    }

    #[test]
    fn env_file_and_directory_placeholders() {
        let dir = std::env::temp_dir().join(format!("cs-providers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secrets.properties"), "cassandra.password=s3cret\n").unwrap();
        std::fs::write(dir.join("user"), "bob").unwrap();
        // SAFETY: tests in this module are the only readers of this variable.
        unsafe { std::env::set_var("CS_PROVIDERS_TEST_HOST", "10.0.0.7") };
        let file = dir.join("secrets.properties");
        let props = Properties::from_pairs([
            ("contactPoints", "${env:CS_PROVIDERS_TEST_HOST}".to_string()),
            ("auth.password", format!("${{file:{}:cassandra.password}}", file.display())),
            ("auth.username", format!("${{dir:{}:user}}", dir.display())),
            ("plain", "no placeholder".to_string()),
            ("other", "${vault:secret/x:y} stays".to_string()),
        ]);
        let r = providers().resolve(&props).unwrap();
        assert_eq!(r.get("contactPoints"), Some("10.0.0.7"));
        assert_eq!(r.get("auth.password"), Some("s3cret"));
        assert_eq!(r.get("auth.username"), Some("bob"));
        assert_eq!(r.get("plain"), Some("no placeholder"));
        assert_eq!(r.get("other"), Some("${vault:secret/x:y} stays"));
    }

    #[test]
    fn missing_secrets_name_the_setting_not_the_value() {
        let props = Properties::from_pairs([
            ("auth.password", "${env:CS_PROVIDERS_TEST_SURELY_UNSET}"),
            ("ssl.keystore.password", "${file:/nonexistent/x.properties:k}"),
        ]);
        let e = providers().resolve(&props).unwrap_err();
        assert_eq!(e.problems.len(), 2, "{e}");
        assert!(e.problems.contains(&"Invalid value for configuration auth.password: ${env:CS_PROVIDERS_TEST_SURELY_UNSET}: environment variable CS_PROVIDERS_TEST_SURELY_UNSET is not set".to_string()), "{e}");
    }

    #[test]
    fn undeclared_or_unknown_providers() {
        let none = Providers::default();
        let p = Properties::from_pairs([("a", "${env:HOME}")]);
        assert_eq!(none.resolve(&p).unwrap().get("a"), Some("${env:HOME}"));
        let e = Providers::from_worker(&Properties::from_pairs([
            ("config.providers", "vault"),
            ("config.providers.vault.class", "com.example.Vault"),
        ]))
        .unwrap_err();
        assert!(
            e.problems[0].starts_with("Invalid value com.example.Vault for configuration config.providers.vault.class")
        );
    }
}
