"""--reconcile: per process, why pmap's figures, smaps and status disagree
(report/reconcile.py), as text under pmap's header line or as JSON."""

from ..errors import EXIT_FAILURE, EXIT_SUCCESS, ProcessError
from ..parse.smaps import iter_smaps
from ..report.reconcile import Reconciliation, reconcile_figures
from ..report.roles import roles_of, thread_facts
from ..report.sinks import Unreadable
from . import OutputMode

__all__ = ["ReconcileMode"]


class ReconcileMode(OutputMode):

    def show(self, process):
        context = self.context
        try:
            mappings = iter_smaps(context.blocks(process, b"smaps"), lenient=True)
            with context.root.process(process.tgid) as files:
                facts = thread_facts(files, process.start_stack)
                figures = reconcile_figures(context.root, process, roles_of(mappings, files, facts), context.view,
                                            facts)
        except ProcessError as error:
            context.sink.emit(Unreadable(process, context.header(process), error))
            return EXIT_FAILURE
        context.sink.emit(Reconciliation(process, context.header(process), figures))
        return EXIT_SUCCESS
