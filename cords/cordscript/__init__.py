"""Cordscript, the small statement language of CORDS action expressions and business values.

``parse`` turns an expression into statements (a hand-written lexer and recursive-descent
parser: nothing is ever evaluated), ``compile_statements`` turns the statements of
configuration, release and interface actions into :class:`Instruction` objects with their
dependencies, and ``dependency_order`` gives the nodes' start order (CORDS.md §4 step 8, §8).

    statements = parse(expression, locate=..., diagnostics=diagnostics)
    instructions = compile_statements(statements, nature="configuration", nodes=nodes,
                                      diagnostics=diagnostics)
    order = dependency_order(instructions, nodes, diagnostics=diagnostics, location_of=...)
"""
from .ast import Assignment, Call, NumberValue, Path, PathValue, Statement, StringValue, Value
from .compiler import ATTRIBUTE_METHODS, LINKAGE_PROPERTIES, NATURES, NODE_METHODS, Instruction, NodeInfo, \
    compile_statements
from .order import dependency_order
from .parser import MAX_STATEMENTS, MAX_TEXT_BYTES, PREFIX, parse, strip_prefix

__all__ = ["parse", "strip_prefix", "compile_statements", "dependency_order",
           "Statement", "Assignment", "Call", "Path", "Value", "StringValue", "NumberValue", "PathValue",
           "Instruction", "NodeInfo", "NATURES", "NODE_METHODS", "ATTRIBUTE_METHODS", "LINKAGE_PROPERTIES",
           "PREFIX", "MAX_TEXT_BYTES", "MAX_STATEMENTS"]
