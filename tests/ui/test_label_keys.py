"""Keyboard label resolution shared by every panel."""
from ui.panels.label_keys import class_for_key, resolve_typed_class


def test_digit_keys_map_to_digit_named_classes_or_positions():
    assert class_for_key("3", ["1", "3"]) == "3"
    assert class_for_key("9", ["1", "3"]) is None          # never "the 9th class" on digit data
    assert class_for_key("2", ["cat", "dog"]) == "dog"
    assert class_for_key("5", ["cat", "dog"]) is None
    assert class_for_key("x", ["cat"]) is None


def test_typed_names_resolve_to_existing_classes_by_prefix_or_case():
    classes = ["cat", "Dog", "cow"]
    assert resolve_typed_class("d", classes) == "Dog"        # unique prefix = letter shortcut
    assert resolve_typed_class("DOG", classes) == "Dog"
    assert resolve_typed_class("c", classes) == ""           # ambiguous prefix: nothing chosen yet
    assert resolve_typed_class("ca", classes) == "cat"
    assert resolve_typed_class("  bird ", classes) == "bird"
    assert resolve_typed_class("   ", classes) == ""
