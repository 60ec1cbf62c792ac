; Capability uses in Go. The capture names are those of python.scm; @use.<kind>.<label> marks
; a construct that is itself a capability.

(identifier) @ref
(selector_expression) @chain
(qualified_type) @chain
(call_expression function: (_) @call.function arguments: (argument_list) @call.args) @call

(import_spec name: (package_identifier) @import.alias path: (_) @import.module)
(import_spec name: (dot) @import.wildcard path: (_) @import.module)
(import_spec name: (blank_identifier) path: (_) @import.module) @import.bare
(import_spec !name path: (_) @import.module)

; Compiler directives: link to unexported runtime symbols, run commands at `go generate`.
((comment) @use.ffi.go_linkname (#match? @use.ffi.go_linkname "^//go:linkname"))
((comment) @use.ffi.go_cgo (#match? @use.ffi.go_cgo "^//go:cgo_"))
((comment) @use.process.go_generate (#match? @use.process.go_generate "^//go:generate"))
