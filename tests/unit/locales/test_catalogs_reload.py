"""locales.catalogs.translations: a catalog compiled again while a server runs is read again."""
from __future__ import annotations

import os
import shutil
import threading

from locales import catalogs


def test_a_catalog_compiled_again_is_reloaded_not_an_error(tmp_path):
    """`concierge locales compile`, or a deploy that updates the catalogs, gives a running server
    a new .mo version. The reload used a name only the first call had set (UnboundLocalError:
    every Polish, Turkish and Hindi page a 500 until a restart)."""
    folder = tmp_path / "translations"
    shutil.copytree(catalogs.CATALOG_DIR, folder)
    first = catalogs.translations("pl", folder)
    assert first.gettext("Shops") != "Shops"  # a real catalog, in Polish
    mo = folder / "pl" / "LC_MESSAGES" / "messages.mo"
    stat = mo.stat()
    os.utime(mo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = catalogs.translations("pl", folder)
    assert again is not first and again.gettext("Shops") == first.gettext("Shops")
    assert catalogs.translations("pl", folder) is again  # and kept until the file changes again


def test_threads_meeting_a_new_language_all_get_its_catalog(tmp_path):
    """The first requests of a new worker come at once: each must get the catalog."""
    folder = tmp_path / "translations"
    shutil.copytree(catalogs.CATALOG_DIR, folder)
    start = threading.Barrier(8)
    got, errors = [], []

    def one() -> None:
        start.wait()
        try:
            got.append(catalogs.translations("tr", folder).gettext("Shops"))
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(got) == 8 and len(set(got)) == 1 and got[0] != "Shops"
