; Capability uses in shell scripts: every command is a process, so what counts is the command's
; name (catalog.json); a name computed at run time ($cmd, "$(...)") is a use of its own.

(command name: (command_name (word) @ref))
(command name: (command_name [(simple_expansion) (expansion) (command_substitution) (string) (raw_string) (concatenation)] @use.dynamic.computed_command))
((word) @use.network.dev_tcp (#match? @use.network.dev_tcp "^/dev/(tcp|udp)/"))
((string_content) @use.network.dev_tcp (#match? @use.network.dev_tcp "^/dev/(tcp|udp)/"))
