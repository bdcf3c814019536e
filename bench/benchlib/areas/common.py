"""What the areas that boot both guests share: how an accelerator is named
in a row and a chart, whether a guest runs at all, and the pair of guests
(a Damselfly image built here, a Linux guest running one of the bench's
programs)."""
from .. import damselfly, host
from ..report import Cell


def software(accel, kind):
    """The kvm_pvm software backend (/dev/kvm, nested)."""
    return accel == "kvm" and kind == "software"


def label(accel, kind, rounds):
    """The accelerator and how many runs, for a row's metric."""
    if accel == "tcg":
        return "TCG, median of %d" % rounds
    if kind == "software":
        return "KVM (kvm_pvm software backend), 1 run"
    return "KVM, median of %d" % rounds


def accel_tag(accel, kind):
    """The accelerator in a chart label or a note."""
    if accel == "tcg":
        return "TCG"
    return "KVM-pvm" if kind == "software" else "KVM"


def plan(ctx, guest, accel, kind, smoke_why):
    """None when the guest is to be run; else the Cell every row shows.
    smoke_why: why the kvm_pvm backend is skipped with --smoke."""
    if not guest.available:
        return Cell.failed(guest.why)
    if accel == "kvm" and kind is None:
        return Cell.cannot(ctx.machine["kvm_why"])
    if software(accel, kind) and ctx.smoke:
        return Cell.text("not run with --smoke (%s)" % smoke_why)
    return None


def guest_pair(ctx, image, make_damselfly, make_linux, program):
    """(Damselfly, Linux): image built with damselfly.build and given to
    make_damselfly(path); make_linux(built, program) for the Linux guest.
    A guest that cannot run is made with why= instead, and says so."""
    try:
        d = make_damselfly(damselfly.build(image))
    except (RuntimeError, OSError) as e:
        ctx.log("%s did not build:\n%s" % (image, e))
        d = make_damselfly(None, why="%s did not build: %s" % (
            image, host.short_error(e)))
    linux = ctx.guests[1]
    if not linux.available:
        return d, make_linux(why=linux.why)
    return d, make_linux(linux.built, program)
