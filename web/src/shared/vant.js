// The Vant components the three apps use, registered one by one with their own styles, so a
// page carries only what it shows (the whole kit's CSS is about 200 KB).
import {
  ActionBar, ActionBarButton, Button, Cell, CellGroup, ConfigProvider, CountDown, Dialog, Divider, Empty, Field, Form, Grid,
  GridItem, Icon, Image as VanImage, List, Loading, NavBar, NoticeBar, Popup, Progress,
  PullRefresh, Search, Skeleton, Step, Steps, Swipe, SwipeItem, Switch, Tab, Tabbar, TabbarItem,
  Tabs, Tag, Uploader, Stepper, Locale,
} from 'vant';
import enUS from 'vant/es/locale/lang/en-US';
import 'vant/es/style/base.css';
import 'vant/es/action-bar/style/index.mjs';
import 'vant/es/action-bar-button/style/index.mjs';
import 'vant/es/button/style/index.mjs';
import 'vant/es/cell/style/index.mjs';
import 'vant/es/cell-group/style/index.mjs';
import 'vant/es/config-provider/style/index.mjs';
import 'vant/es/count-down/style/index.mjs';
import 'vant/es/dialog/style/index.mjs';
import 'vant/es/divider/style/index.mjs';
import 'vant/es/empty/style/index.mjs';
import 'vant/es/field/style/index.mjs';
import 'vant/es/form/style/index.mjs';
import 'vant/es/grid/style/index.mjs';
import 'vant/es/grid-item/style/index.mjs';
import 'vant/es/icon/style/index.mjs';
import 'vant/es/image/style/index.mjs';
import 'vant/es/list/style/index.mjs';
import 'vant/es/loading/style/index.mjs';
import 'vant/es/nav-bar/style/index.mjs';
import 'vant/es/notice-bar/style/index.mjs';
import 'vant/es/popup/style/index.mjs';
import 'vant/es/progress/style/index.mjs';
import 'vant/es/pull-refresh/style/index.mjs';
import 'vant/es/search/style/index.mjs';
import 'vant/es/skeleton/style/index.mjs';
import 'vant/es/step/style/index.mjs';
import 'vant/es/steps/style/index.mjs';
import 'vant/es/stepper/style/index.mjs';
import 'vant/es/swipe/style/index.mjs';
import 'vant/es/swipe-item/style/index.mjs';
import 'vant/es/switch/style/index.mjs';
import 'vant/es/tab/style/index.mjs';
import 'vant/es/tabbar/style/index.mjs';
import 'vant/es/tabbar-item/style/index.mjs';
import 'vant/es/tabs/style/index.mjs';
import 'vant/es/tag/style/index.mjs';
import 'vant/es/toast/style/index.mjs';
import 'vant/es/uploader/style/index.mjs';

const components = [
  ActionBar, ActionBarButton, Button, Cell, CellGroup, ConfigProvider, CountDown, Dialog, Divider, Empty, Field, Form, Grid,
  GridItem, Icon, VanImage, List, Loading, NavBar, NoticeBar, Popup, Progress, PullRefresh,
  Search, Skeleton, Step, Steps, Swipe, SwipeItem, Switch, Tab, Tabbar, TabbarItem, Tabs, Tag,
  Uploader, Stepper,
];

export function installVant(app) {
  for (const component of components) app.use(component);
}

// Vant's own texts (dialog buttons, empty states) follow the interface language.
export function useVantLocale(locale) {
  if (locale === 'en') Locale.use('en-US', enUS);
}
