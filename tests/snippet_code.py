"""Load single definitions from a snippet, without running the snippet.

The formula tests check the code the pages show, which lives in ``snippets/<stem>.py``. Those
files are scripts: at top level they train models, draw figures and call ``plt.show()``, so
importing one is slow and has side effects. ``snippet_function`` instead parses the file with
``ast``, picks the requested top-level definitions plus what they need (top-level imports,
other top-level functions or classes, and simple constant assignments such as ``KAPPA = 50.0``
or ``shapes = [(n_hidden, 2), ...]``), and executes only those statements, in source order, in
a fresh namespace. Nothing else in the snippet runs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SNIPPETS = Path(__file__).resolve().parent.parent / "snippets"

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# expression nodes that run code (or bind names) when a top-level assignment is evaluated
_NOT_SIMPLE = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr,
               ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class SnippetDefinitionError(LookupError):
    """A requested name, or something it depends on, cannot be taken from the snippet."""


@dataclass
class _Module:
    path: Path
    body: list[ast.stmt]
    # name -> indices (into body) of the top-level statements binding it; None marks a binding
    # that cannot be executed on its own (a computed value, a loop target, ...)
    bindings: dict[str, list[int | None]] = field(default_factory=dict)


def _bound_names(target: ast.expr) -> list[str] | None:
    """Names bound by an assignment target, or None if it is not plain names (a[0] = ..., x.y = ...)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        names: list[str] = []
        for element in target.elts:
            sub = _bound_names(element.value if isinstance(element, ast.Starred) else element)
            if sub is None:
                return None
            names += sub
        return names
    return None


def _is_simple(value: ast.expr | None) -> bool:
    """True for a value built from literals, names, operators and lambdas, with no call outside a lambda."""
    if value is None:
        return False
    stack: list[ast.AST] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, _NOT_SIMPLE):
            return False
        if isinstance(node, ast.Lambda):
            continue  # a lambda's body runs only when it is called
        stack.extend(ast.iter_child_nodes(node))
    return True


def _store_names(tree: ast.AST) -> set[str]:
    """Every name bound anywhere inside a statement (arguments, assignments, loop targets, imports, ...)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, _DEFINITIONS):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _free_names(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement reads from the module namespace (an over-approximation of locals)."""
    if isinstance(stmt, _DEFINITIONS):
        # decorators, defaults, annotations and base classes are evaluated in the module scope;
        # the body only when called, with its own locals
        outer: list[ast.AST] = [*stmt.decorator_list]
        if isinstance(stmt, ast.ClassDef):
            outer += [*stmt.bases, *(k.value for k in stmt.keywords)]
        else:
            outer += [*stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d is not None)]
        inner_locals = _store_names(stmt) - {stmt.name}
        loads = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        outer_loads = {n.id for tree in outer for n in ast.walk(tree) if isinstance(n, ast.Name)}
        return (loads - inner_locals) | outer_loads
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else stmt
    lambda_locals = set().union(*(_store_names(n) for n in ast.walk(value) if isinstance(n, ast.Lambda)))
    loads = {n.id for n in ast.walk(value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loads - lambda_locals


@cache
def _parse(snippet_stem: str) -> _Module:
    path = SNIPPETS / f"{snippet_stem}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no snippet {snippet_stem!r}: {path} does not exist")
    module = _Module(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body)
    for index, stmt in enumerate(module.body):
        names: list[str] | None
        runnable: int | None = index
        if isinstance(stmt, _DEFINITIONS):
            names = [stmt.name]
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = [(a.asname or a.name).split(".")[0] for a in stmt.names]
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            per_target = [_bound_names(t) for t in targets]
            if not _is_simple(stmt.value) or any(t is None for t in per_target):
                runnable = None
            names = [n for t in per_target for n in (t or [])]
            if runnable is None:  # still record what it binds, so that a dependency on it is reported
                names = sorted(_store_names(stmt))
        else:  # loops, with-blocks, expressions, augmented assignments, ...: never run
            names, runnable = sorted(_store_names(stmt)), None
        for name in names:
            module.bindings.setdefault(name, []).append(runnable)
    return module


def snippet_function(snippet_stem: str, *names: str) -> dict[str, object]:
    """The named top-level functions, classes or simple constants of ``snippets/<snippet_stem>.py``.

    Only those definitions and what they need (imports, other top-level definitions, simple
    constant assignments) are executed, in source order, in a fresh namespace; the rest of the
    snippet (training, figures, plt.show()) never runs. Returns ``{name: object}`` for the
    requested names. Raises SnippetDefinitionError naming the snippet and the name if a requested
    name is not defined at top level, or if it depends on a value the snippet computes at run time
    (FileNotFoundError if there is no such snippet).
    """
    if not names:
        raise ValueError("name at least one definition to take from the snippet")
    module = _parse(snippet_stem)
    where = f"snippets/{snippet_stem}.py"
    # `from __future__ import ...` changes how the definitions compile (postponed annotations): always kept
    selected: set[int] = {i for i, stmt in enumerate(module.body)
                          if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"}
    pending: list[tuple[str, str | None]] = [(name, None) for name in names]  # (name, the name that needs it)
    while pending:
        name, needed_by = pending.pop()
        bindings = module.bindings.get(name)
        if not bindings:
            if needed_by is None:
                raise SnippetDefinitionError(
                    f"{where} has no top-level function, class or constant named {name!r}")
            # a builtin, or a local the scope analysis could not see (or a typo the snippet
            # itself would hit at run time): nothing to take from the module
            continue
        if None in bindings:
            raise SnippetDefinitionError(
                f"{where}: {name!r}" + (f" (needed by {needed_by!r})" if needed_by else "")
                + " is computed at run time by the snippet, so it cannot be loaded on its own")
        for index in bindings:
            if index not in selected:
                selected.add(index)
                pending += [(dep, name) for dep in _free_names(module.body[index])]
    code = compile(ast.Module(body=[module.body[i] for i in sorted(selected)], type_ignores=[]),
                   str(module.path), "exec")
    namespace: dict[str, object] = {"__name__": f"snippets.{snippet_stem}", "__file__": str(module.path)}
    exec(code, namespace)  # noqa: S102 - only definitions, imports and constants of our own snippet
    return {name: namespace[name] for name in names}


def run_snippet(stem: str) -> dict:
    """The top-level values of ``snippets/<stem>.py`` after a full run, as a reader runs it.

    For the tests that assert the numbers a page states about its figures. Figures are drawn
    off-screen (Agg) and closed afterwards; ``figures`` holds how many the snippet left open.
    Figures other tests left open are closed first, and torch's default dtype, thread count and
    random state and matplotlib's backend and rc settings are restored afterwards.
    """
    import contextlib
    import io
    import runpy

    import matplotlib
    import matplotlib.pyplot as plt
    import torch

    dtype, threads, backend, show = torch.get_default_dtype(), torch.get_num_threads(), matplotlib.get_backend(), plt.show
    torch.set_default_dtype(torch.float32)  # a snippet runs in torch's default dtype
    matplotlib.use("Agg")
    plt.close("all")
    plt.show = lambda *args, **kwargs: None
    try:
        with torch.random.fork_rng(), matplotlib.rc_context(), contextlib.redirect_stdout(io.StringIO()):
            run = runpy.run_path(str(SNIPPETS / f"{stem}.py"), run_name="__main__")
        return {**run, "figures": len(plt.get_fignums())}
    finally:
        plt.show = show
        plt.close("all")
        matplotlib.use(backend)
        torch.set_default_dtype(dtype)
        torch.set_num_threads(threads)


def assert_adam_step_matches_torch_optim_adam(adam_step, lr: float) -> None:
    """A snippet's hand-written ``adam_step(params, grads, state, lr)`` (snippets write Adam out: the
    first ``torch.optim`` optimizer costs ~1 s of imports) against ``torch.optim.Adam`` over 25 steps
    of one smooth objective, ||w - target||^2 - sum cos(w), to 1e-12."""
    import torch

    torch.manual_seed(0)
    w_ours = torch.randn(4, 3)
    w_ref = w_ours.clone().requires_grad_(True)
    opt = torch.optim.Adam([w_ref], lr=lr)
    target = torch.randn(4, 3)
    state: dict = {}
    for _ in range(25):
        g = 2 * (w_ours - target) + torch.sin(w_ours)  # gradient of ||w - target||^2 - sum cos(w)
        adam_step([w_ours], [g], state, lr)
        opt.zero_grad()
        ((w_ref - target) ** 2).sum().add(-torch.cos(w_ref).sum()).backward()
        opt.step()
    torch.testing.assert_close(w_ours, w_ref.detach(), rtol=0, atol=1e-12)
