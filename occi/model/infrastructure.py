"""OCCI Infrastructure (GFD.224): compute, storage, network, their links and templates."""
from __future__ import annotations

from occi.model.attribute import Attribute
from occi.model.category import Action, Kind, Mixin
from occi.model.core import LINK, RESOURCE

__all__ = [
    "INFRA", "COMPUTE", "STORAGE", "NETWORK", "NETWORKINTERFACE", "STORAGELINK",
    "IPNETWORK", "IPNETWORKINTERFACE", "OS_TPL", "RESOURCE_TPL", "SSH_KEY", "USER_DATA",
    "CATEGORIES",
]

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
_ACTION = "http://schemas.ogf.org/occi/infrastructure/{}/action#"


def _state(prefix: str, states: tuple[str, ...]) -> tuple[Attribute, Attribute]:
    return (
        Attribute(f"{prefix}.state", type="enum", enum=states, mutable=False, required=True,
                  default=states[1] if len(states) > 1 else states[0], server_managed=True,
                  description="Current state of the instance."),
        Attribute(f"{prefix}.state.message", mutable=False, server_managed=True,
                  description="Human-readable explanation of the current state."),
    )


def _method(*values: str) -> Attribute:
    return Attribute("method", type="enum", enum=values, description="How to carry out the action.")


_compute_action = _ACTION.format("compute")
COMPUTE_ACTIONS = (
    Action(_compute_action, "start", title="Start the compute instance",
           enabled_in=("inactive", "suspended", "error"), target_state="active"),
    Action(_compute_action, "stop", title="Stop the compute instance",
           attributes=(_method("graceful", "acpioff", "poweroff"),),
           enabled_in=("active",), target_state="inactive"),
    Action(_compute_action, "restart", title="Restart the compute instance",
           attributes=(_method("graceful", "warm", "cold"),),
           enabled_in=("active", "error"), target_state="active"),
    Action(_compute_action, "suspend", title="Suspend the compute instance",
           attributes=(_method("hibernate", "suspend"),),
           enabled_in=("active",), target_state="suspended"),
    Action(_compute_action, "save", title="Save the compute instance as a new OS template",
           attributes=(_method("hot", "deferred"),
                       Attribute("name", description="Name of the template to create.")),
           enabled_in=("active", "inactive"), target_state=None),
)

COMPUTE = Kind(
    INFRA, "compute", title="Compute Resource", parent=RESOURCE, location="/compute/",
    state_attribute="occi.compute.state", actions=COMPUTE_ACTIONS,
    attributes=(
        Attribute("occi.compute.architecture", type="enum", enum=("x86", "x64"),
                  description="CPU architecture of the instance."),
        Attribute("occi.compute.cores", type="integer", minimum=1,
                  description="Number of virtual CPU cores."),
        Attribute("occi.compute.hostname", description="Fully qualified DNS hostname."),
        Attribute("occi.compute.share", type="integer", minimum=0,
                  description="Relative number of CPU shares."),
        Attribute("occi.compute.memory", type="number", minimum=0,
                  description="Maximum RAM in gigabytes (GiB)."),
        *_state("occi.compute", ("active", "inactive", "suspended", "error")),
    ),
)

_storage_action = _ACTION.format("storage")
STORAGE = Kind(
    INFRA, "storage", title="Storage Resource", parent=RESOURCE, location="/storage/",
    state_attribute="occi.storage.state",
    actions=(
        Action(_storage_action, "online", title="Bring the storage online",
               enabled_in=("offline", "error"), target_state="online"),
        Action(_storage_action, "offline", title="Take the storage offline",
               enabled_in=("online",), target_state="offline"),
    ),
    attributes=(
        Attribute("occi.storage.size", type="number", required=True, minimum=0,
                  description="Storage size in gigabytes (GiB)."),
        *_state("occi.storage", ("online", "offline", "error")),
    ),
)

_network_action = _ACTION.format("network")
NETWORK = Kind(
    INFRA, "network", title="Network Resource", parent=RESOURCE, location="/network/",
    state_attribute="occi.network.state",
    actions=(
        Action(_network_action, "up", title="Bring the network up",
               enabled_in=("inactive", "error"), target_state="active"),
        Action(_network_action, "down", title="Take the network down",
               enabled_in=("active",), target_state="inactive"),
    ),
    attributes=(
        Attribute("occi.network.vlan", type="integer", minimum=0, maximum=4095,
                  description="802.1q VLAN identifier."),
        Attribute("occi.network.label", pattern=r"[A-Za-z0-9_.\-]+", description="Tag-based VLAN label."),
        *_state("occi.network", ("active", "inactive", "error")),
    ),
)

IPNETWORK = Mixin(
    "http://schemas.ogf.org/occi/infrastructure/network#", "ipnetwork", title="IP Network Mixin",
    applies=(NETWORK,), location="/mixin/ipnetwork/",
    attributes=(
        Attribute("occi.network.address",
                  pattern=r"[0-9a-fA-F.:]+/[0-9]{1,3}", description="Internet Protocol network address (CIDR)."),
        Attribute("occi.network.gateway", description="Internet Protocol network gateway address."),
        Attribute("occi.network.allocation", type="enum", enum=("dynamic", "static"),
                  description="Address allocation mechanism."),
    ),
)

_link_state = ("active", "inactive", "error")
_ni_action = _ACTION.format("networkinterface")
NETWORKINTERFACE = Kind(
    INFRA, "networkinterface", title="NetworkInterface Link", parent=LINK,
    location="/link/networkinterface/", state_attribute="occi.networkinterface.state",
    source_kinds=(COMPUTE,), target_kinds=(NETWORK,),
    actions=(
        Action(_ni_action, "up", title="Activate the interface",
               enabled_in=("inactive", "error"), target_state="active"),
        Action(_ni_action, "down", title="Deactivate the interface",
               enabled_in=("active",), target_state="inactive"),
    ),
    attributes=(
        Attribute("occi.networkinterface.interface", mutable=False,
                  description="Identifier of the interface on the compute (e.g. eth0)."),
        Attribute("occi.networkinterface.mac", description="MAC address of the interface."),
        *_state("occi.networkinterface", _link_state),
    ),
)

IPNETWORKINTERFACE = Mixin(
    "http://schemas.ogf.org/occi/infrastructure/networkinterface#", "ipnetworkinterface",
    title="IP Network Interface Mixin", applies=(NETWORKINTERFACE,),
    location="/mixin/ipnetworkinterface/",
    attributes=(
        Attribute("occi.networkinterface.address", required=True, description="IP address of the interface."),
        Attribute("occi.networkinterface.gateway", description="IP gateway of the interface."),
        Attribute("occi.networkinterface.allocation", type="enum", enum=("dynamic", "static"),
                  required=True, default="dynamic", description="Address allocation mechanism."),
    ),
)

STORAGELINK = Kind(
    INFRA, "storagelink", title="StorageLink Link", parent=LINK, location="/link/storagelink/",
    state_attribute="occi.storagelink.state", source_kinds=(COMPUTE,), target_kinds=(STORAGE,),
    attributes=(
        Attribute("occi.storagelink.deviceid", required=True, description="Device identifier (e.g. /dev/vdb)."),
        Attribute("occi.storagelink.mountpoint", description="Point to mount the device at."),
        *_state("occi.storagelink", _link_state),
    ),
)

OS_TPL = Mixin(INFRA, "os_tpl", title="OS Template", exclusive=True, location="/mixin/os_tpl/")
RESOURCE_TPL = Mixin(INFRA, "resource_tpl", title="Resource Template", exclusive=True, location="/mixin/resource_tpl/")

SSH_KEY = Mixin(
    "http://schemas.ogf.org/occi/infrastructure/credentials#", "ssh_key", title="Credentials Mixin",
    applies=(COMPUTE,), location="/mixin/ssh_key/",
    attributes=(Attribute("occi.credentials.ssh.publickey", required=True,
                          description="SSH public key to inject into the compute instance."),),
)

USER_DATA = Mixin(
    "http://schemas.ogf.org/occi/infrastructure/compute#", "user_data", title="Contextualization Mixin",
    applies=(COMPUTE,), location="/mixin/user_data/",
    attributes=(Attribute("occi.compute.userdata", required=True,
                          description="Contextualization data (e.g. cloud-init), base64 encoded."),),
)

CATEGORIES = (
    COMPUTE, *COMPUTE_ACTIONS, STORAGE, *STORAGE.actions, NETWORK, *NETWORK.actions,
    IPNETWORK, NETWORKINTERFACE, *NETWORKINTERFACE.actions, IPNETWORKINTERFACE, STORAGELINK,
    OS_TPL, RESOURCE_TPL, SSH_KEY, USER_DATA,
)


def os_template(term: str, *, scheme: str, title: str = "", attributes=()) -> Mixin:
    """A provider OS template (depends on os_tpl, applies to compute)."""
    return Mixin(scheme, term, title=title, depends=(OS_TPL,), applies=(COMPUTE,),
                 location=f"/mixin/os_tpl/{term}/", attributes=tuple(attributes))


def resource_template(term: str, *, scheme: str, title: str = "", cores: int | None = None,
                      memory: float | None = None) -> Mixin:
    """A provider resource template whose defaults size a compute (GFD.224 §3.5.2)."""
    attributes = []
    if cores is not None:
        attributes.append(Attribute("occi.compute.cores", type="integer", default=cores, minimum=1))
    if memory is not None:
        attributes.append(Attribute("occi.compute.memory", type="number", default=memory, minimum=0))
    return Mixin(scheme, term, title=title, depends=(RESOURCE_TPL,), applies=(COMPUTE,),
                 location=f"/mixin/resource_tpl/{term}/", attributes=tuple(attributes))
