; inherits: ecmascript
; TypeScript and TSX: what ecmascript.scm does not cover.

(required_parameter pattern: (identifier) @skip)
(optional_parameter pattern: (identifier) @skip)
(import_require_clause (identifier) @import.alias source: (string) @import.module)
