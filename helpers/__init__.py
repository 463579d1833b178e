"""Small helpers shared by the course notebooks.

Only what several notebooks need lives here; each module's docstring says
which notebook teaches it. The lessons themselves live in the notebooks.
"""

from .checks import check_close, numerical_gradient, rel_error
from .data import CIFAR10_CLASSES, MNIST_CLASSES, DataError, DataInfo, load_cifar10, load_mnist
from .plots import confusion_matrix, plot_confusion_matrix, plot_history, show_images
from .profiles import PROFILES, active_profile, choose

__all__ = [
    "CIFAR10_CLASSES", "MNIST_CLASSES", "PROFILES", "DataError", "DataInfo",
    "active_profile", "check_close", "choose", "confusion_matrix", "load_cifar10",
    "load_mnist", "numerical_gradient", "plot_confusion_matrix", "plot_history",
    "rel_error", "show_images",
]
