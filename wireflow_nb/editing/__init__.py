"""The editor's pure model: geometry, connection rules, layout, undo commands, gestures,
clipboard and the ``EditorState`` that ties them. No module here imports a widget
library (ipywidgets, ipycanvas, IPython), so ``Workflow._repr_svg_`` and scripts use
it without a kernel, and its tests need no canvas. The widget shells
(``widgets/editor.py``, ``widgets/_draw.py``) import from here, never the other way.

Modules, each importing only those above it (and numpy, ``models``, ``catalog``,
``graphs``):

- ``geometry``: sizes, ``NodeBox`` and ports placed, ``View`` (pan/zoom), edge curves,
  ``Hit``;
- ``style``: colours and text fitting shared by the canvas and the SVG picture;
- ``connections``: ``check_connection`` (ports, self, kind, duplicate, fed, cycle);
- ``layout``: ``layered_layout``;
- ``commands``: the undoable commands and their ``History``;
- ``clipboard``: the shared ``Clipboard``;
- ``scene``: ``Redraw`` flags and ``Scene`` (boxes, view, selection, undo, hit tests);
- ``edits``: ``Edits(Scene)``, the editing actions;
- ``gestures``: ``Gestures(Edits)``, pointer gestures;
- ``state``: ``EditorState(Gestures)``, the keyboard, the class the shells use.
"""
