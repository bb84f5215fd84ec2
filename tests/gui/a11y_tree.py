# SPDX-License-Identifier: GPL-2.0-or-later
"""Print servin-gui's accessibility tree as JSON lines: role, name, text.

Runs inside the app's session (DBUS_SESSION_BUS_ADDRESS), where pyatspi
finds the accessibility bus. Hidden widgets are left out. GTK 4.8 marks
pages of a GtkStack that are not shown as visible too, so the tree tells
which rows and texts exist, not which page is on screen.
"""

import json
import sys

import pyatspi

MAX_DEPTH = 60


def text_of(node):
    try:
        text = node.queryText()
        return text.getText(0, text.characterCount)
    except NotImplementedError:
        return None


def value_of(node):
    try:
        return node.queryValue().currentValue
    except NotImplementedError:
        return None


def walk(node, depth, path):
    if node is None or depth > MAX_DEPTH:
        return
    states = node.getState()
    if depth > 1 and not states.contains(pyatspi.STATE_VISIBLE):
        return
    record = {"role": node.getRoleName(), "name": node.name, "path": path}
    text = text_of(node)
    if text:
        record["text"] = text
    value = value_of(node)
    if value is not None:
        record["value"] = value
    print(json.dumps(record), flush=True)
    for i in range(node.childCount):
        walk(node.getChildAtIndex(i), depth + 1, f"{path}/{i}")


def main():
    app_name = sys.argv[1] if len(sys.argv) > 1 else "servin-gui"
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        app = desktop.getChildAtIndex(i)
        if app is not None and app.name == app_name:
            walk(app, 0, str(i))
            return 0
    names = [desktop.getChildAtIndex(i).name for i in range(desktop.childCount)]
    print(f"no application {app_name} in the accessibility tree; found {names}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
