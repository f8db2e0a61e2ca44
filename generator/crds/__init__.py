"""CRD schemas: CustomResourceDefinitions turned into JSON Schemas, and the bundle clusterforge ships.

``read`` finds the CRDs in files, folders and streams; ``convert`` makes one JSON Schema per served
version; ``extract`` writes them in the catalog layout ``<group>/<kind>_<version>.json`` (a schema
location for ``validate`` and for kubeconform); ``bundle`` makes the shipped schemas in ``bundled/``
from the upstream CRD files ``sources.yaml`` lists (repository, tag, path, sha256); those files are not
kept in the repository: ``task schemas`` reads them from a folder they were fetched into.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLED = HERE / "bundled"  # the shipped schemas, in the catalog layout, with index.json
PROVENANCE = HERE / "sources.yaml"  # where every upstream CRD file of the bundle comes from
# the folder `task schemas` reads the upstream CRD files from: <project>/<file name> (gitignored)
UPSTREAM = HERE / "upstream"
SOURCES_ENV = "CLUSTERFORGE_CRD_SOURCES"  # another folder instead of UPSTREAM
INDEX = "index.json"
