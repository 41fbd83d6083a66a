"""Record builders in each vendor's own format, and each stream's benign background."""

from tocsin.simulate.background import Source
from tocsin.simulate.formats import (
    auth0,
    cloudtrail,
    duo,
    edge,
    entra,
    network,
    okta,
    platform,
    reports,
    sshd,
    webaccess,
    workspace,
)

#: The benign background source of each stream.
BACKGROUNDS: dict[str, Source] = {
    auth0.STREAM: auth0.auth0_background,
    cloudtrail.STREAM: cloudtrail.cloudtrail_background,
    duo.STREAM: duo.duo_background,
    edge.STREAM: edge.edge_background,
    entra.STREAM: entra.entra_background,
    network.STREAM: network.network_background,
    okta.STREAM: okta.okta_background,
    platform.STREAM: platform.platform_background,
    reports.STREAM: reports.reports_background,
    sshd.STREAM: sshd.ssh_background,
    webaccess.STREAM: webaccess.web_background,
    workspace.STREAM: workspace.workspace_background,
}
