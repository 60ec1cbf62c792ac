; Capability uses in Java. The capture names are those of python.scm; @path is a dotted type
; name (java.net.Socket) read from its text. java.lang needs no import (see syntax.py).

(identifier) @ref
(type_identifier) @ref
(scoped_type_identifier) @path
(method_invocation) @chain
(field_access) @chain

(method_declaration name: (identifier) @skip)
(constructor_declaration name: (identifier) @skip)
(class_declaration name: (identifier) @skip)
(interface_declaration name: (identifier) @skip)
(formal_parameter name: (identifier) @skip)
(variable_declarator name: (identifier) @skip)
(catch_formal_parameter name: (identifier) @skip)
(lambda_expression parameters: (identifier) @skip)
(import_declaration (_) @skip)
(package_declaration (_) @skip)

(import_declaration (scoped_identifier) @import.module (asterisk) @import.wildcard)
(import_declaration (scoped_identifier) @import.module .)
