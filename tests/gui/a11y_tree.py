# SPDX-License-Identifier: GPL-2.0-or-later
"""Print servin-gui's accessibility tree as JSON lines: role, name, text.
With --click NAME, press the first button called NAME instead.

Runs inside the app's session (DBUS_SESSION_BUS_ADDRESS), where pyatspi
finds the accessibility bus. Hidden widgets are left out. GTK 4.8 marks
pages of a GtkStack that are not shown as visible too, so the tree shows
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


def find_button(node, name, depth=0):
    if node is None or depth > MAX_DEPTH:
        return None
    # GTK 4.8 names a button with a mnemonic label "_Details Details".
    label = node.name or ""
    if label.endswith(" " + name) and label[:-len(name) - 1].replace("_", "") == name:
        label = name
    if node.getRoleName() == "push button" and label == name:
        return node
    for i in range(node.childCount):
        found = find_button(node.getChildAtIndex(i), name, depth + 1)
        if found is not None:
            return found
    return None


def click(app, name):
    button = find_button(app, name)
    if button is None:
        print(f"no button {name!r}", file=sys.stderr)
        return 3
    button.queryAction().doAction(0)
    return 0


def main():
    app_name = "servin-gui"
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        app = desktop.getChildAtIndex(i)
        if app is not None and app.name == app_name:
            if len(sys.argv) == 3 and sys.argv[1] == "--click":
                return click(app, sys.argv[2])
            walk(app, 0, str(i))
            return 0
    names = [desktop.getChildAtIndex(i).name for i in range(desktop.childCount)]
    print(f"no application {app_name} in the accessibility tree; found {names}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
