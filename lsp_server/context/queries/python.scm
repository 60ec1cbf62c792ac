; Definitions: @def.<kind> is the definition node, @name its name.
(module (function_definition name: (identifier) @name) @def.function)
(module (decorated_definition definition: (function_definition name: (identifier) @name) @def.function))
; Module-level functions defined per version or per import (`if sys.version_info >= ...:`).
(module (if_statement consequence: (block (function_definition name: (identifier) @name) @def.function)))
(module (if_statement alternative: (else_clause body: (block (function_definition name: (identifier) @name) @def.function))))
(module (if_statement alternative: (elif_clause consequence: (block (function_definition name: (identifier) @name) @def.function))))
(module (try_statement body: (block (function_definition name: (identifier) @name) @def.function)))
(module (try_statement (except_clause (block (function_definition name: (identifier) @name) @def.function))))
(class_definition name: (identifier) @name) @def.class
(class_definition body: (block (function_definition name: (identifier) @name) @def.method))
(class_definition body: (block (decorated_definition definition: (function_definition name: (identifier) @name) @def.method)))
(module (expression_statement (assignment left: (identifier) @name)) @def.constant
  (#match? @name "^_?[A-Z][A-Z0-9_]*$"))
(module (expression_statement (assignment left: (identifier) @name type: (type) @_t)) @def.type
  (#match? @_t "TypeAlias"))
(module (type_alias_statement left: (type (identifier) @name)) @def.type)

; Imports: @import.name is a name the file imports, @import.module where from.
(import_from_statement module_name: (_) @import.module)
(import_from_statement name: (dotted_name . (identifier) @import.name .))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @import.name .) alias: (identifier) @import.alias))
(import_statement name: (dotted_name) @import.module)
(import_statement name: (aliased_import name: (dotted_name) @import.module))
