"""The lineage URL `kedah-analytics dev` prints opens every asset group (the UI's `expanded`)."""

from urllib.parse import parse_qs, urlsplit

from kedah_analytics.definitions import defs, lineage_path


def test_the_lineage_url_names_every_group_as_the_ui_does():
    url = urlsplit(lineage_path())
    assert url.path == "/asset-groups"
    expanded = parse_qs(url.query)["expanded"][0].split(",")
    groups = {node.group_name for node in defs.resolve_asset_graph().asset_nodes}
    assert sorted(expanded) == sorted(f"global@global:{g}" for g in groups)  # groupIdForNode, 1.13
    assert {"ingest", "marts"} <= groups
