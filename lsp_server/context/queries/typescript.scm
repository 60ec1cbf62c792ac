; Definitions: @def.<kind> is the definition node, @name its name.
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(class_declaration name: (type_identifier) @name) @def.class
(abstract_class_declaration name: (type_identifier) @name) @def.class
; Methods of classes only: an object literal's method alone is not valid code, and its type says it.
(class_body (method_definition name: (property_identifier) @name) @def.method)
(abstract_method_signature name: (property_identifier) @name) @def.method
(interface_declaration name: (type_identifier) @name) @def.type
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.type
(program (lexical_declaration (variable_declarator name: (identifier) @name)) @def.constant)
(program (export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name)) @def.constant))

; Imports: @import.name is a name the file imports, @import.module where from.
(import_specifier name: (identifier) @import.name)
(import_specifier name: (identifier) @import.name alias: (identifier) @import.alias)
(import_clause (identifier) @import.name)
(namespace_import (identifier) @import.name)
(import_statement source: (string (string_fragment) @import.module))
