"""Your own apps in the same tree: charts declared under `apps:` in the settings (build.py), folders and
Applications written by hand beside the generated ones (discover.py), and the checks that refuse
what cannot work together before anything is written (checks.py, values.py)."""
