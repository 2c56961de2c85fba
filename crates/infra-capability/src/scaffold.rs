//! `infra capabilities new NAME`: a capability file and template that already pass
//! `infra capabilities check`, declaring a `file` resource (the one kind every
//! project can apply without a server), for the user to edit into what they need.

use infra_core::spec::check::is_name;

/// (`capabilities/NAME.md` text, `templates/NAME.toml.j2` text), or why NAME is unusable.
pub fn scaffold(name: &str) -> Result<(String, String), String> {
    if !is_name(name) {
        return Err(format!(
            "{name:?} is not a capability name: use lowercase letters, digits and '-'"
        ));
    }
    let md = MD.replace("{NAME}", name);
    let tpl = TEMPLATE.replace("{NAME}", name);
    Ok((md, tpl))
}

const MD: &str = r#"+++
name = "{NAME}"
summary = "A text file under the file provider's root (scaffold: edit to build what you need)"
triggers = ["{NAME}"]
template = "{NAME}.toml.j2"

[params.name]
type = "name"
required = true
description = "resource name; the file is written as NAME.txt"

[params.content]
type = "text"
default = "managed by infra"
description = "what the file holds"
+++
# {NAME}

Say here what this capability builds and why, for the people who review the
change and for the model that picks capabilities for `infra ask`. The template
`templates/{NAME}.toml.j2` renders TOML resource tables (`[KIND.NAME]`); pass
every value through `| toml` so it is quoted and escaped.

Param types: name, port, cores, memory, disk, fqdn, hostname, ip, address, url,
record_type, target, image, text, int, bool. Templates also get `project`,
`fqdn`, `zone`, `record_name`, `ip`, `gateway`, `internal` and `group`.

## Aliases/Triggers
- "{NAME}"

## Examples
- "Create a {NAME} called motd" → name = "motd"
"#;

const TEMPLATE: &str = r#"{#- {NAME}: the resources this capability adds. Values go through `| toml`. #}
[file.{{ name }}]
group = {{ group | toml }}
path = {{ (name ~ ".txt") | toml }}
content = {{ content | toml }}
"#;
