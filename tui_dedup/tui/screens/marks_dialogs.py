"""Small dialogs for changing marks: a folder/pattern to mark, the list of pairs skipped in
this review with a key to unskip one, and the ordered chain of keeper rules auto-mark uses.

All answer through ``dismiss`` like the dialogs in :mod:`.confirm` (the caller's callback
does the work), so they hold no review state of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.screens.confirm import ChoiceScreen


class PatternScreen(NoRepaintLoop, ModalScreen[str | None]):
    """Ask for a folder (``backup/``) or a glob (``*/old/*.jpg``); escape gives None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pattern.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                "Mark every copy under a folder or matching a pattern "
                "(never a group's last copy). Enter: mark, escape: cancel",
                classes="dialog-title",
                markup=False,
            )
            yield Input(placeholder="backup/  or  */old/*.jpg", id="pattern")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SkipsScreen(ChoiceScreen):
    """The pairs skipped ("not a duplicate") in this review; enter or ``u`` unskips one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "unskip", "Unskip", id="skips.unskip"),
    ]

    def __init__(self, pairs: list[tuple[tuple[int, int], str]]) -> None:
        super().__init__(
            "Skipped in this review. Enter or u: unskip (the pair comes back), escape: close",
            [(f"{i},{j}", label) for (i, j), label in pairs],
        )

    def action_unskip(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @staticmethod
    def pair_of(answer: str) -> tuple[int, int]:
        i, _, j = answer.partition(",")
        return int(i), int(j)


class RuleChainScreen(ChoiceScreen):
    """Order the keeper rules auto-mark tries: space picks or unpicks the highlighted rule
    (picked rules are numbered in the order they were picked), Enter or ``y`` applies, Escape
    or ``n`` cancels; ``c`` clears the chain, ``d`` puts the default chain back.

    Why a chain and not one rule: one rule rarely decides (two copies often share a size), so
    each rule breaks the ties the ones before it left, as ``--auto-select RULE,RULE`` does. The
    answer is spelled as that option is (``"resolution,size"``; ``""``: the default chain), so
    :meth:`rules_of` reads it back; the line under the list shows the chain as it will apply
    (``chain_of``: with ``--keep-in``, ``preferred-folder`` comes first unless it was placed).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "pick", "Pick / unpick", id="chain.pick"),
        Binding("c", "clear", "Clear", id="chain.clear"),
        Binding("d", "default", "Default chain", id="chain.default"),
        Binding("y", "apply", "Apply", id="chain.apply"),
        Binding("n", "cancel", "Cancel", id="chain.no"),
    ]

    def __init__(
        self,
        rules: Sequence[tuple[str, str]],
        picked: Sequence[str],
        chain_of: Callable[[Sequence[str]], tuple[str, ...]],
    ) -> None:
        super().__init__(
            "Auto-mark: the rules that choose the copy each group keeps",
            [(name, name) for name, _ in rules],
        )
        self.descriptions = dict(rules)
        self.picked = [r for r in picked if r in self.descriptions]
        self.chain_of = chain_of
        self.default = list(chain_of(()))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Static(
                "space: pick/unpick  c: clear  d: default  Enter: apply  Esc: cancel",
                markup=False,
            )
            yield OptionList(
                *(Option(self._prompt(name), id=name) for name, _ in self.choices),
                classes="dialog-body",
            )
            yield Static(self._summary(), id="chain-summary", markup=False)

    def _prompt(self, name: str) -> Content:
        pos = self.picked.index(name) + 1 if name in self.picked else None
        mark = f"{pos:>2}" if pos is not None else "  "
        return Content(f"{mark}  {name}: {self.descriptions[name]}")

    def _summary(self) -> str:
        """The chain as it will apply: the first rule decides, each next one breaks the ties
        left (with ``--keep-in``, ``preferred-folder`` leads unless it was placed)."""
        chain = self.chain_of(self.picked)
        head = "Tried in order: " if self.picked else "None picked, so the default: "
        return head + " > ".join(chain) + " > then the path"

    def _refresh(self) -> None:
        options = self.query_one(OptionList)
        for name, _ in self.choices:
            options.replace_option_prompt(name, self._prompt(name))
        self.query_one("#chain-summary", Static).update(self._summary())

    def action_pick(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        name = options.get_option_at_index(options.highlighted).id
        if name is None:
            return
        if name in self.picked:
            self.picked.remove(name)
        else:
            self.picked.append(name)
        self._refresh()

    def action_clear(self) -> None:
        self.picked = []
        self._refresh()

    def action_default(self) -> None:
        self.picked = [r for r in self.default if r in self.descriptions]
        self._refresh()

    def action_apply(self) -> None:
        self.dismiss(",".join(self.picked))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        # Enter applies the chain (space picks); not ChoiceScreen's answer, the option's id:
        # Textual runs a base class's handler too unless the default is prevented.
        event.stop()
        event.prevent_default()
        self.action_apply()

    @staticmethod
    def rules_of(answer: str) -> list[str]:
        """The dialog's answer back as rule names (empty: the default chain)."""
        return [r for r in answer.split(",") if r]
