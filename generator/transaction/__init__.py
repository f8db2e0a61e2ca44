"""All or nothing: the output tree and the local records that describe it change in one commit.

A commit happens in three steps, in a folder ``<output>/.clusterforge/txn-<pid>-<random>/`` that the
running process holds an flock on (generator.owned):

1. Staging: every new or changed file is written complete under ``new/`` and synced; the local
   records (the no-op state, the sealed-secrets record) are written to locked temporary files beside
   their targets. Nothing under the output has changed yet.
2. The commit point: a journal naming every rename and removal is written, synced, and renamed to
   ``journal``. Before that rename the commit never happened; after it, it has.
3. Rolling forward: staged files are renamed into place, stale files removed, emptied folders
   pruned, records renamed last; the folders are synced and the transaction folder removed.

Staging inside the output folder keeps every rename on one filesystem, wherever --output points.
A run that dies leaves a transaction folder nobody holds a lock on. ``recover(output)`` runs before
anything reads or writes that output: with a journal it rolls forward (each step can be done again),
without one it removes the staging. So any clusterforge command finds the old tree or the new one.
Standard library only: configure's no-op fast path recovers too.
"""

# what the no-op fast path needs; staging and committing are in generator.transaction.commit
from generator.transaction.journal import AREA
from generator.transaction.recover import recover

__all__ = ["AREA", "recover"]
