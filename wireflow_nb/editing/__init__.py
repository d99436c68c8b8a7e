"""The editor's pure model: geometry, connection rules, layout, undo commands, gestures,
clipboard and the ``EditorState`` that ties them. No module here imports a widget
library (ipywidgets, ipycanvas, IPython; ``tests/editing/test_imports.py`` checks), so
``Workflow._repr_svg_`` and scripts use it without a kernel, and its tests need no
canvas. The widget shells (``widgets/editor.py``, ``widgets/_layers.py``,
``widgets/_draw.py``) import from here, never the other way.

Modules, each importing at run time only those above it (and numpy, ``models``, ``catalog``,
``graphs``). Rules with a home elsewhere are called, not rewritten: port kinds are
``catalog``'s (``can_feed``, ``kind_mismatch``, ``carried_kind``), graph walks
``graphs``'.

- ``style``: colours, font sizes and text fitting, shared by the canvas and the SVG;
- ``geometry``: sizes, ``NodeBox`` (a node's box and ports), ``View`` (pan/zoom), edge
  curves, ``Hit``;
- ``viewport``: the view a workflow file keeps (React Flow's ``viewport``);
- ``connections``: ``check_connection`` (ports, self, kind, duplicate, fed, cycle);
- ``layout``: ``layered_layout``;
- ``commands``: the undoable commands, their ``History``, new ids;
- ``clipboard``: the shared ``Clipboard``, copying and pasting;
- ``scene``: ``Redraw`` flags and ``Scene`` (boxes, view, selection, undo, hit tests);
- ``edits``: ``Edits(Scene)``, the editing actions;
- ``canvas_edits``: ``CanvasEdits(Edits)``, groups, notes and bypass: frames, hit tests,
  actions;
- ``gestures``: ``Gestures(CanvasEdits)``, pointer gestures;
- ``minimap``: the minimap's geometry (frame, mapping both ways, when it shows);
- ``minimap_gestures``: ``MinimapGestures(Gestures)``, the press or drag on the minimap,
  bringing new nodes into view;
- ``quickadd``: ``QuickAdd(Gestures)``, the quick-add box (a link dropped on empty
  canvas, a double-click): ranking, double-click timer, one-step add + connect;
- ``state``: ``EditorState(QuickAdd, MinimapGestures)``, the keyboard; the class the shells use.
"""
